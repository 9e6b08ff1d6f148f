"""Spawned workers and the TCP lane against forked workers and the Unix lane (the Windows/macOS path, on Linux).

Three servers, each in its own process as a user starts one: forked workers + Unix lane (the Linux
default), spawned workers + TCP lane with a warm pool, and spawned workers + TCP lane without one.
Rounds interleave the configurations; medians are over rounds and every ratio is between figures of
the same run:

* connect + first reset (a new session on a warm worker; and on a cold start, without a pool),
* CartPole-v1, 1 env: time per step; 64 envs in one vector session: time per vector step,
* 40 connect/close cycles on the spawn server: processes left over and the server's RSS.

    uv run python benchmarks/bench_spawn.py --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.client.config import ClientConfig

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from servers import SERVER_SCRIPT

CONFIGS: dict[str, dict[str, Any]] = {
    "fork": {"worker_start": "fork", "lane_transport": "unix"},
    "spawn": {"worker_start": "spawn", "lane_transport": "tcp", "warm_workers": 2},
    "cold": {"worker_start": "spawn", "lane_transport": "tcp", "warm_workers": 0},
    "fork_tcp": {"worker_start": "fork", "lane_transport": "tcp"},
}
"""``fork_tcp`` tells the lane's share of a difference from the spawned worker's."""


@contextlib.contextmanager
def _server(options: dict[str, Any]) -> Iterator[tuple[int, int]]:
    """A server process with these ServerConfig options; yields (port, pid)."""
    args = {"default_args": {"env_id": "CartPole-v1"}, "port": 0, "workers_per_session": 1, **options}
    with subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, json.dumps(args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            yield int(proc.stdout.readline()), proc.pid
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _connect_reset_s(port: int) -> float:
    start = time.perf_counter()
    env = RemoteEnvironment(url="127.0.0.1", port=port)
    env.reset(seed=0)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def _step_us(port: int, steps: int, settle: Callable[[], None]) -> tuple[float, str]:
    with RemoteEnvironment(url="127.0.0.1", port=port, config=ClientConfig()) as env:
        env.reset(seed=0)
        for i in range(200):  # warm-up, as the measured loop (constant action 0 ends an episode in ~10 steps)
            if any(env.step(i & 1)[2:4]):
                env.reset()
        settle()
        start = time.perf_counter()
        for i in range(steps):
            _, _, terminated, truncated, _ = env.step(i & 1)
            if terminated or truncated:
                env.reset()
        path = env._connection.path if env._connection else "?"  # "lane" or "grpc"
        return (time.perf_counter() - start) / steps * 1e6, path


def _vector_step_us(port: int, steps: int, num_envs: int, settle: Callable[[], None]) -> float:
    env = RemoteVectorEnv(address=f"127.0.0.1:{port}", env="CartPole-v1", num_envs=num_envs)
    try:
        env.reset(seed=0)
        actions = np.zeros(num_envs, dtype=np.int64)
        for _ in range(50):
            env.step(actions)
        settle()
        start = time.perf_counter()
        for _ in range(steps):
            env.step(actions)
        return (time.perf_counter() - start) / steps * 1e6
    finally:
        env.close()


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid,ppid"], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines()[1:]:
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cycles(port: int, pid: int, count: int, warm: int) -> dict[str, Any]:
    """``count`` connect/reset/close cycles; then processes left beside the warm pool, and RSS."""
    rss = [_rss_mib(pid)]
    for i in range(count):
        with RemoteEnvironment(url="127.0.0.1", port=port) as env:
            env.reset(seed=i)
            env.step(0)
        if i % 10 == 9:
            rss.append(_rss_mib(pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_descendants(pid)) != warm:
        time.sleep(0.2)
    return {"left": len(_descendants(pid)) - warm, "rss_mib": rss}


def _wait_warm(pid: int, warm: int, timeout: float = 60.0) -> None:
    """Wait until the server has ``warm`` worker processes (plus sessions' ones) and they are preloaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(_descendants(pid)) != warm:
        time.sleep(0.1)
    time.sleep(2.0)  # connected and preloaded: the pool's workers connect after their imports


def _settle(pid: int, pool: int | None) -> Callable[[], None]:
    """Before timing steps: the spawn server's pool refilled (``pool`` processes), else a 2 s pause."""
    if pool is None:
        return lambda: time.sleep(2.0)
    return lambda: _wait_warm(pid, pool)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables (or JSON)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians over rounds; default 5)")
    parser.add_argument("--steps", type=int, default=3000, help="single-env steps per sample (default 3000)")
    parser.add_argument("--vector-steps", type=int, default=300, help="64-env steps per sample (default 300)")
    parser.add_argument("--cycles", type=int, default=40, help="connect/close cycles (default 40)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    samples: dict[str, list[float]] = {}
    paths: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(_server(options)) for name, options in CONFIGS.items()}
        _wait_warm(servers["spawn"][1], CONFIGS["spawn"]["warm_workers"])
        with Progress(transient=True) as progress:
            task = progress.add_task("rounds", total=args.rounds)
            for _ in range(args.rounds):
                for name in ("fork", "spawn", "cold"):
                    samples.setdefault(f"connect_{name}", []).append(_connect_reset_s(servers[name][0]) * 1e3)
                # The pool starts a worker behind the one taken: let it finish (on 2 cores it competes).
                _wait_warm(servers["spawn"][1], CONFIGS["spawn"]["warm_workers"])
                # Timing starts once the worker started behind the session's is ready (1 session open).
                pool = CONFIGS["spawn"]["warm_workers"] + 1
                for name in ("fork", "spawn", "fork_tcp"):
                    port, pid = servers[name]
                    settle = _settle(pid, pool if name == "spawn" else None)
                    us, paths[name] = _step_us(port, args.steps, settle)
                    samples.setdefault(f"step1_{name}", []).append(us)
                    samples.setdefault(f"step64_{name}", []).append(
                        _vector_step_us(port, args.vector_steps, 64, settle)
                    )
                _wait_warm(servers["spawn"][1], CONFIGS["spawn"]["warm_workers"])
                progress.advance(task)
        port, pid = servers["spawn"]
        _wait_warm(pid, CONFIGS["spawn"]["warm_workers"])
        cycles = _cycles(port, pid, args.cycles, CONFIGS["spawn"]["warm_workers"])
    med = {key: statistics.median(values) for key, values in samples.items()}
    report = {
        "medians": med,
        "ratios": {
            "connect_spawn_warm_vs_fork": med["connect_spawn"] / med["connect_fork"],
            "connect_spawn_cold_vs_fork": med["connect_cold"] / med["connect_fork"],
            "step1_spawn_tcp_vs_fork_unix": med["step1_spawn"] / med["step1_fork"],
            "step64_spawn_tcp_vs_fork_unix": med["step64_spawn"] / med["step64_fork"],
            "step1_fork_tcp_vs_fork_unix": med["step1_fork_tcp"] / med["step1_fork"],
            "step64_fork_tcp_vs_fork_unix": med["step64_fork_tcp"] / med["step64_fork"],
        },
        "paths": paths,
        "cycles": cycles,
        "rounds": args.rounds,
        "placement": "not pinned",
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    _print(Console(), report, args)
    return 0


def _print(console: Console, report: dict[str, Any], args: argparse.Namespace) -> None:
    med, ratios = report["medians"], report["ratios"]
    table = Table(
        title=f"spawned workers + TCP lane vs forked + Unix lane (medians of {args.rounds} rounds, not pinned)"
    )
    for column in ("measure", "fork + unix lane", "spawn + tcp lane", "ratio", "fork + tcp lane (ratio)"):
        table.add_column(column)
    table.add_row(
        "connect + first reset (warm pool of 2)",
        f"{med['connect_fork']:.1f} ms",
        f"{med['connect_spawn']:.1f} ms",
        f"{ratios['connect_spawn_warm_vs_fork']:.2f}",
        "",
    )
    table.add_row(
        "connect + first reset (no warm worker)",
        f"{med['connect_fork']:.1f} ms",
        f"{med['connect_cold']:.1f} ms",
        f"{ratios['connect_spawn_cold_vs_fork']:.2f}",
        "",
    )
    table.add_row(
        "CartPole, 1 env, per step"
        + ("" if set(report["paths"].values()) == {"lane"} else f" {report['paths']}"),
        f"{med['step1_fork']:.1f} µs",
        f"{med['step1_spawn']:.1f} µs",
        f"{ratios['step1_spawn_tcp_vs_fork_unix']:.2f}",
        f"{med['step1_fork_tcp']:.1f} µs ({ratios['step1_fork_tcp_vs_fork_unix']:.2f})",
    )
    table.add_row(
        "CartPole, 64 envs, per vector step",
        f"{med['step64_fork']:.1f} µs",
        f"{med['step64_spawn']:.1f} µs",
        f"{ratios['step64_spawn_tcp_vs_fork_unix']:.2f}",
        f"{med['step64_fork_tcp']:.1f} µs ({ratios['step64_fork_tcp_vs_fork_unix']:.2f})",
    )
    console.print(table)
    cycles = report["cycles"]
    rss = ", ".join(f"{value:.1f}" for value in cycles["rss_mib"])
    console.print(
        f"{args.cycles} connect/close cycles on the spawn server: {cycles['left']} process(es) left beside the "
        f"warm pool; server RSS every 10 cycles: {rss} MiB"
    )


if __name__ == "__main__":
    raise SystemExit(main())
