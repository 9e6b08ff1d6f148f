"""Benchmark asynchronous vector stepping (RemoteVectorEnv(batch_size=M): send/recv) against synchronous steps.

Usage:
    uv run python benchmarks/bench_async_vector.py                  # 5 runs of 2 s per configuration
    uv run python benchmarks/bench_async_vector.py --quick          # a smoke run
    uv run python benchmarks/bench_async_vector.py --envpool-python PATH   # EnvPool 1.2.7 in the same runs

Configurations, in four groups whose members are all open at once and step blocks in turn
(:mod:`turns`), so that the shared machine's slow spells fall on every side of a ratio:

- 16 Sleepy sub-envs over 2 servers (each step sleeps 1 ms, 10 ms for one sub-env in eight, so the
  cores are not the limit): the synchronous vector env, and ``batch_size=8`` (send/recv).
- 64 CartPole-v1 sub-envs on one server (default client settings, so the same-host lane): the
  synchronous vector env, ``batch_size=64`` and ``batch_size=32`` (send/recv); gymnasium's
  AsyncVectorEnv over 8 envs; and, with ``--envpool-python``, EnvPool 1.2.7 over 64 envs, run by
  peer_envpool.py in that interpreter (a Python 3.12 environment of its own, never a dependency).
- 64 CartPole-v1 sub-envs on the same server with a trainer's work in the loop
  (:mod:`trainer_work`: a policy's forward pass on one thread, about 0.35 ms per 64 observations,
  computes each batch's actions from its observations): ``step()`` and ``batch_size=32``. What
  ``send``/``recv`` are for: the host steps one half while the trainer works on the other.
- 64 CartPole-v1 sub-envs over both servers (32 each): ``step()`` and ``batch_size=32``.

EnvPool runs in its own process right after the groups, in each run. The table shows medians over runs;
each ratio is computed within a run and its median shown. Processes are not pinned.
"""

from __future__ import annotations

import trainer_work  # first: it keeps NumPy's BLAS on one thread  # isort: skip
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import turns
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym import RemoteVectorEnv
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS

CARTPOLE = "CartPole-v1"
SLEEPY = "Sleepy"
Policy = Callable[[Any], Any]
SLEEPY_KWARGS = {"step_s": 0.001, "slow_s": 0.01, "slow_every": 8, "episode_length": 1_000_000}
"""1 ms per step, 10 ms for the sub-envs reset with a seed divisible by 8 (one in eight with seed=0)."""


@contextlib.contextmanager
def server_process() -> Iterator[str]:
    """A remote-gym server in its own process hosting CartPole-v1 and the Sleepy test env."""
    environments = {SLEEPY: {"env_id": IMPORTABLE_ENV_IDS[SLEEPY], "allowed_kwargs": "*"}}
    args = {
        "default_args": {"env_id": CARTPOLE},
        "environments": environments,
        "port": 0,
        "hosting": "process",
    }
    with server_port(SERVER_SCRIPT, json.dumps(args)) as port:
        yield f"127.0.0.1:{port}"


def async_stepper(envs: RemoteVectorEnv, policy: Policy | None = None) -> turns.Stepper:
    """EnvPool's loop, ``k`` times per call: ``recv`` a batch, ``send`` its actions back (pre-sampled,
    or ``policy`` of the batch's observations)."""
    actions = np.random.default_rng(0).integers(0, 2, 4096)
    envs.async_reset(seed=0)
    at = [0]

    def run(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            obs, _, _, _, infos = envs.recv()
            ids = infos["env_id"]
            if policy is None:
                i = at[0] = (at[0] + len(ids)) % (len(actions) - len(ids))
                envs.send(actions[i : i + len(ids)], ids)
            else:
                envs.send(policy(obs), ids)
        return time.perf_counter() - start

    return run


def policy_stepper(envs: RemoteVectorEnv, policy: Policy) -> turns.Stepper:
    """The synchronous loop with the trainer's work: ``step(policy(observations))``, ``k`` times per call."""
    obs = [envs.reset(seed=0)[0]]

    def run(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            obs[0] = envs.step(policy(obs[0]))[0]
        return time.perf_counter() - start

    return run


def envpool_rates(python: str, runs: int, seconds: float) -> list[float]:
    """EnvPool 1.2.7's CartPole env-steps/s over 64 envs, one sample per run (peer_envpool.py in ``python``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [python, os.path.join(here, "peer_envpool.py"), str(runs), str(seconds), "64"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [float(x) for x in json.loads(out)["env_steps_per_s"]["64"]]


@dataclass
class Row:
    """One configuration: its samples over runs, and its ratios to the row named ``baseline``."""

    name: str
    note: str
    baseline: str = ""
    samples: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs (medians are over runs; default 5)")
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="about this many seconds per group and run (default 2)"
    )
    parser.add_argument("--quick", action="store_true", help="1 run of 0.5 s per configuration: a smoke run")
    parser.add_argument("--envpool-python", help="interpreter of a Python 3.12 venv with envpool 1.2.7")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 0.5
    console = Console(width=None if sys.stdout.isatty() else 150)
    rows = {
        "sleepy_sync": Row("Sleepy x16, 2 servers, step()", "1 ms steps, 10 ms for 1 in 8"),
        "sleepy_async": Row("Sleepy x16, 2 servers, batch_size=8", "send/recv", "sleepy_sync"),
        "cp_sync": Row("CartPole x64, 1 server, step()", "default client settings", "gym_async"),
        "cp_async64": Row("CartPole x64, 1 server, batch_size=64", "send/recv", "cp_sync"),
        "cp_async32": Row("CartPole x64, 1 server, batch_size=32", "send/recv", "cp_sync"),
        "gym_async": Row("gymnasium AsyncVectorEnv(8)", "8 worker processes"),
        "cp_sync_policy": Row("CartPole x64, 1 server, step(), with a policy", ""),
        "cp_async32_policy": Row(
            "CartPole x64, 1 server, batch_size=32, with a policy", "send/recv", "cp_sync_policy"
        ),
        "cp2_sync": Row("CartPole x64, 2 servers, step()", "32 sub-envs each"),
        "cp2_async32": Row("CartPole x64, 2 servers, batch_size=32", "send/recv", "cp2_sync"),
    }
    policy = trainer_work.mlp_policy(4, 2)
    forward = trainer_work.forward_us(policy, 64, 4), trainer_work.forward_us(policy, 32, 4)
    rows["cp_sync_policy"].note = f"forward pass {forward[0]:.0f} us / 64 obs, {forward[1]:.0f} / 32"
    if args.envpool_python:
        rows["envpool"] = Row("EnvPool 1.2.7, 64 envs, step()", "its own Python 3.12", "cp_sync")
    with contextlib.ExitStack() as stack:
        first, second = stack.enter_context(server_process()), stack.enter_context(server_process())
        local = gym.vector.AsyncVectorEnv([lambda: gym.make(CARTPOLE) for _ in range(8)])
        stack.callback(local.close)
        sleepy = {"kwargs": SLEEPY_KWARGS, "address": [first, second]}
        envs: dict[str, Any] = {
            "sleepy_sync": RemoteVectorEnv(SLEEPY, 16, **sleepy),
            "sleepy_async": RemoteVectorEnv(SLEEPY, 16, batch_size=8, **sleepy),
            "cp_sync": RemoteVectorEnv(CARTPOLE, 64, address=first),
            "cp_async64": RemoteVectorEnv(CARTPOLE, 64, address=first, batch_size=64),
            "cp_async32": RemoteVectorEnv(CARTPOLE, 64, address=first, batch_size=32),
            "gym_async": local,
            "cp_sync_policy": RemoteVectorEnv(CARTPOLE, 64, address=first),
            "cp_async32_policy": RemoteVectorEnv(CARTPOLE, 64, address=first, batch_size=32),
            "cp2_sync": RemoteVectorEnv(CARTPOLE, 64, address=[first, second]),
            "cp2_async32": RemoteVectorEnv(CARTPOLE, 64, address=[first, second], batch_size=32),
        }
        for env in envs.values():
            stack.callback(env.close)
        steppers: dict[str, turns.Stepper] = {
            "cp_sync_policy": policy_stepper(envs["cp_sync_policy"], policy),
            "cp_async32_policy": async_stepper(envs["cp_async32_policy"], policy),
        }
        per_call = {"cp_sync_policy": 64, "cp_async32_policy": 32}  # env-steps per call of a stepper's loop
        for key, env in envs.items():
            if key in steppers:
                continue
            if getattr(env, "batch_size", None) and env._async is not None:
                steppers[key], per_call[key] = async_stepper(env), env.batch_size
            else:
                steppers[key], per_call[key] = turns.vector_stepper(env), env.num_envs
        groups = (  # (configurations, loop calls of each per run at --seconds 2: 1-2 s each)
            (("sleepy_sync", "sleepy_async"), 60),
            (("cp_sync", "cp_async64", "cp_async32", "gym_async"), 1200),
            (("cp_sync_policy", "cp_async32_policy"), 800),
            (("cp2_sync", "cp2_async32"), 1200),
        )
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("benchmark", total=args.runs)
            for _ in range(args.runs):
                results: dict[str, float] = {}
                for keys, calls in groups:
                    progress.update(task, description=", ".join(rows[key].name for key in keys))
                    group = {key: steppers[key] for key in keys}
                    for key, rate in turns.in_turns(group, max(10, int(calls * args.seconds / 2))).items():
                        results[key] = rate * per_call[key]
                if args.envpool_python:
                    progress.update(task, description=rows["envpool"].name)
                    results["envpool"] = envpool_rates(args.envpool_python, 1, args.seconds)[0]
                for key, value in results.items():
                    row = rows[key]
                    row.samples.append(value)
                    if row.baseline:
                        row.ratios.append(value / results[row.baseline])
                progress.advance(task)
    _print(console, rows, args)
    return 0


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _print(console: Console, rows: dict[str, Row], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    table = Table(
        title=f"Asynchronous vector stepping - medians over {args.runs} run(s), configurations in turns",
        caption=f"{os.cpu_count()} CPUs, load average {load}; not pinned",
    )
    for col in ("configuration", "env-steps/s", "min-max", "ratio", "to", "note"):
        table.add_column(col, justify="left" if col in ("configuration", "to", "note") else "right")
    for row in rows.values():
        table.add_row(
            row.name,
            f"{_median(row.samples):,.0f}",
            f"{min(row.samples):,.0f}-{max(row.samples):,.0f}",
            f"{_median(row.ratios):.2f}" if row.ratios else "",
            rows[row.baseline].name if row.baseline else "",
            row.note,
        )
    console.print(table)
    targets = (
        ("sleepy_async", 3.0, ">= 3"),
        ("cp_async64", 0.95, ">= 0.95"),
        ("cp_async32", 1.0, ">= 1"),
        ("cp_sync", 7.0, ">= 7"),
    )
    for key, floor, text in targets:
        ratio = _median(rows[key].ratios)
        console.print(
            f"{rows[key].name}: {ratio:.2f} x (target {text}: {'met' if ratio >= floor else 'NOT met'})"
        )
    for key, text in (
        (
            "cp_async32_policy",
            "step() with the same policy (the trainer's work is what send/recv overlap with)",
        ),
        ("cp2_async32", "step() over the same 2 servers"),
    ):
        console.print(f"{rows[key].name}: {_median(rows[key].ratios):.2f} x {text} (no target)")


if __name__ == "__main__":
    sys.exit(main())
