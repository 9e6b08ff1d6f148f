"""Measure steps/s and step latency of remote environments beside the same environments run locally."""

from __future__ import annotations

import contextlib
import importlib
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym

from remote_gym._version import __version__
from remote_gym.client.env import RemoteEnvironment
from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from remote_gym.transport.tls import TLSConfig
from remote_gym.wire.polling import usable_cpus

DEFAULT_STEPS = 2000
"""Timed step calls per run."""
DEFAULT_RUNS = 3
"""Runs per measurement; throughput is their median."""
DEFAULT_NUM_ENVS = 8
"""Sub-environments of the vector measurement."""


@dataclass(frozen=True)
class Measurement:
    """Throughput and latency of one target (local or remote) at one vector size."""

    target: str
    """``"local"`` (the env in this process) or ``"remote"`` (through a server)."""
    num_envs: int
    """1 for a single env, N for a vector of N envs (one call steps all N)."""
    env_steps_per_s: float
    """Environment steps per second (N per vector call), median over the runs."""
    call_p50_us: float
    """Median duration of one ``step`` call, in microseconds (all runs pooled)."""
    call_p99_us: float
    """99th percentile duration of one ``step`` call, in microseconds."""
    runs: int
    """How many runs the figures come from."""
    calls_per_run: int
    """Timed ``step`` calls per run."""
    vs_local: float | None = None
    """``env_steps_per_s`` divided by the local figure at the same size (None for local rows)."""


@dataclass(frozen=True)
class BenchReport:
    """Everything one benchmark run measured, plus the context needed to read it."""

    env: str
    """Environment measured (its Gymnasium id)."""
    server: str
    """The server measured: an address, or the embedded one and its hosting mode."""
    measurements: tuple[Measurement, ...]
    """Local and remote rows, single env first."""
    notes: tuple[str, ...] = ()
    """What was left out, and why."""
    placement: str = ""
    """Process placement (pinning) during the run."""
    environment: dict[str, str] = field(default_factory=dict)
    """Versions and machine: python, remote_gym, gymnasium, platform."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


ProgressCallback = Callable[[str], None]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_single(env: gym.Env[Any, Any], steps: int, *, seed: int = 0) -> tuple[float, list[float]]:
    """Step ``env`` ``steps`` times with pre-drawn random actions, resetting at episode ends.

    Returns:
        Wall-clock seconds of the whole loop (resets included) and the duration of each step call.
    """
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    latencies = []
    start = time.perf_counter()
    for action in actions:
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        latencies.append(time.perf_counter() - t0)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start, latencies


def time_vector(
    envs: gym.vector.VectorEnv[Any, Any, Any], steps: int, *, seed: int = 0
) -> tuple[float, list[float]]:
    """Step a vector env ``steps`` times with pre-drawn random actions (it resets sub-envs itself).

    Returns:
        Wall-clock seconds of the loop and the duration of each (vector) step call.
    """
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(steps)]
    envs.reset(seed=seed)
    latencies = []
    start = time.perf_counter()
    for action in actions:
        t0 = time.perf_counter()
        envs.step(action)
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


def measure(
    step_loop: Callable[[int], tuple[float, list[float]]],
    *,
    target: str,
    num_envs: int,
    steps: int,
    runs: int,
) -> Measurement:
    """Run ``step_loop(steps)`` ``runs`` times after a short warm-up and summarise it."""
    step_loop(max(10, steps // 10))  # warm-up: connections, caches, first-reset costs
    rates, latencies = [], []
    for _ in range(runs):
        seconds, calls = step_loop(steps)
        rates.append(num_envs * steps / seconds if seconds > 0 else float("inf"))
        latencies.extend(calls)
    return Measurement(
        target=target,
        num_envs=num_envs,
        env_steps_per_s=statistics.median(rates),
        call_p50_us=percentile(latencies, 0.5) * 1e6,
        call_p99_us=percentile(latencies, 0.99) * 1e6,
        runs=runs,
        calls_per_run=steps,
    )


def run_benchmark(
    *,
    env: str | None = "CartPole-v1",
    address: str | None = None,
    tls: TLSConfig | None = None,
    num_envs: int = DEFAULT_NUM_ENVS,
    steps: int = DEFAULT_STEPS,
    runs: int = DEFAULT_RUNS,
    hosting: str = "auto",
    vector: bool = True,
    progress: ProgressCallback | None = None,
) -> BenchReport:
    """Measure ``env`` through a server and locally, for 1 env and for a vector of ``num_envs``.

    Args:
        env: Environment to measure: a Gymnasium id for the embedded server; the name the server
            hosts it under when ``address`` is given (None: the server's default).
        address: ``host:port`` of a running server; None starts an embedded one on loopback.
        tls: Client TLS settings for ``address``.
        num_envs: Size of the vector measurement.
        steps: Timed step calls per run.
        runs: Runs per measurement; throughput is their median, latencies are pooled.
        hosting: Hosting mode of the embedded server (``"process"``, ``"inline"`` or ``"auto"``).
        vector: Also measure a vector of ``num_envs`` envs.
        progress: Called with a short description before each measurement.

    Returns:
        The report; remote rows carry their ratio to the local row of the same size.

    Raises:
        ConfigError: ``steps``, ``runs`` or ``num_envs`` is below 1, or the embedded server has no env id.
        RemoteGymError: Connecting to or using the server failed.
    """
    if steps < 1 or runs < 1 or num_envs < 1:
        raise ConfigError(f"steps, runs and num_envs must be >= 1, got {steps}, {runs}, {num_envs}")
    say = progress or (lambda _: None)
    notes: list[str] = []
    rows: list[Measurement] = []
    with _server(env, address, hosting) as (target, server_label):
        say(f"remote {env or 'default env'}, 1 env")
        with RemoteEnvironment(address=target, env=env, tls=tls) as remote:
            local_id = env if address is None else (remote.spec.id if remote.spec else env)
            rows.append(
                measure(lambda n: time_single(remote, n), target="remote", num_envs=1, steps=steps, runs=runs)
            )
        local_id = local_id or ""
        local_ok = _registered(local_id)
        if local_ok:
            say(f"local {local_id}, 1 env")
            with contextlib.closing(gym.make(local_id)) as local:
                rows.append(
                    measure(
                        lambda n: time_single(local, n), target="local", num_envs=1, steps=steps, runs=runs
                    )
                )
        else:
            namespaced = "/" in local_id and ":" not in local_id
            hint = " (name its package in front: 'ale_py:ALE/Pong-v5')" if namespaced else ""
            notes.append(f"no local baseline: {local_id!r} is not a registered Gymnasium id here{hint}")
        if vector:
            rows += _vector_rows(
                target, env, local_id if local_ok else None, tls, num_envs, steps, runs, say, notes
            )
    return BenchReport(
        env=local_id or str(env),
        server=server_label,
        measurements=tuple(_with_ratios(rows)),
        notes=tuple(notes),
        placement=_placement(),
        environment={
            "python": platform.python_version(),
            "remote_gym": __version__,
            "gymnasium": gym.__version__,
            "platform": platform.platform(),
        },
    )


def _vector_rows(
    target: str,
    env: str | None,
    local_id: str | None,
    tls: TLSConfig | None,
    num_envs: int,
    steps: int,
    runs: int,
    say: ProgressCallback,
    notes: list[str],
) -> list[Measurement]:
    try:
        from remote_gym.client.vector_env import RemoteVectorEnv
    except ImportError:
        notes.append("vector rows left out: RemoteVectorEnv is not available in this version of remote-gym")
        return []
    rows = []
    say(f"remote {env or 'default env'}, vector of {num_envs}")
    with contextlib.closing(RemoteVectorEnv(env, num_envs, address=target, tls=tls)) as remote:
        rows.append(
            measure(
                lambda n: time_vector(remote, n), target="remote", num_envs=num_envs, steps=steps, runs=runs
            )
        )
    if local_id is not None:
        say(f"local {local_id}, vector of {num_envs} (SyncVectorEnv)")
        with contextlib.closing(
            gym.make_vec(local_id, num_envs=num_envs, vectorization_mode="sync")
        ) as local:
            rows.append(
                measure(
                    lambda n: time_vector(local, n), target="local", num_envs=num_envs, steps=steps, runs=runs
                )
            )
    return rows


@contextlib.contextmanager
def _server(env: str | None, address: str | None, hosting: str) -> Iterator[tuple[str, str]]:
    # Yields (address to connect to, label for the report).
    if address is not None:
        yield address, address
        return
    if not env:
        raise ConfigError("the embedded server needs a Gymnasium id to host (env=...)")
    config = ServerConfig(
        environments=(make_entry(env, gym_id=env),), host="127.0.0.1", port=0, hosting=hosting, max_sessions=0
    )
    with EnvServer(config) as server:
        yield server.address, f"embedded {server.address} (hosting={server.config.hosting})"


def _registered(env_id: str) -> bool:
    if not env_id:
        return False
    module, _, name = env_id.rpartition(":")
    try:
        # "ale_py:ALE/Pong-v5": the import gym.make does for the id the user gave, in the user's process.
        if module:
            importlib.import_module(module)
        gym.spec(name)
    except (ImportError, gym.error.Error):
        return False
    return True


def _with_ratios(rows: list[Measurement]) -> list[Measurement]:
    local = {m.num_envs: m.env_steps_per_s for m in rows if m.target == "local"}
    out = []
    for m in sorted(rows, key=lambda m: (m.num_envs, m.target != "local")):
        base = local.get(m.num_envs)
        ratio = m.env_steps_per_s / base if m.target != "local" and base else None
        out.append(Measurement(**{**asdict(m), "vs_local": ratio}))
    return out


def _placement() -> str:
    return f"not pinned: client, server and workers share {usable_cpus()} CPU(s)"
