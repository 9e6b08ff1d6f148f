"""Benchmark RemoteVectorEnv (CartPole-v1) against local SyncVectorEnv and AsyncVectorEnv, in one run.

Usage:
    uv run python benchmarks/bench_vector.py            # 5 runs of 2 s per configuration
    uv run python benchmarks/bench_vector.py --quick    # a smoke run
    uv run python benchmarks/bench_vector.py --pin      # pin the client and the servers (see --help)

Every run measures every configuration once, in turn, so machine noise spreads over all of them.
The table shows medians over runs; each ratio is computed within a run (remote and baseline measured
back to back) and its median over runs is shown. Servers run as separate processes, started the way
an operator starts them; each remote session steps its sub-envs in its own worker process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym import ClientConfig, RemoteVectorEnv

ENV_ID = "CartPole-v1"
ASYNC_BASELINE_ENVS = 8


@contextlib.contextmanager
def server_process(options: dict[str, Any], cpus: set[int] | None) -> Iterator[str]:
    """Run a remote-gym server in its own process (pinned to ``cpus`` with its workers); yields its address."""
    args = {"default_args": {"env_id": ENV_ID}, "port": 0, "hosting": "process", **options}
    with server_port(SERVER_SCRIPT, json.dumps(args), cpus=cpus) as port:
        yield f"127.0.0.1:{port}"


def env_steps_per_s(envs: gym.vector.VectorEnv[Any, Any, Any], seconds: float) -> float:
    """Env-steps per second of ``envs`` (steps x num_envs), random actions drawn before timing."""
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, 2, envs.num_envs) for _ in range(64)]
    envs.reset(seed=0)
    for action in actions[:10]:  # warm up
        envs.step(action)
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for action in actions[:16]:
            envs.step(action)
        steps += 16
        now = time.perf_counter()
        if now >= deadline:
            return steps * envs.num_envs / (now - start)


@dataclass
class Row:
    """One configuration: its samples over runs, and the baselines its ratios are taken against."""

    name: str
    num_envs: int
    note: str = ""
    remote: bool = False
    samples: list[float] = field(default_factory=list)
    vs_async: list[float] = field(default_factory=list)
    vs_sync: list[float] = field(default_factory=list)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs (medians are over runs; default 5)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement (default 2)")
    parser.add_argument("--quick", action="store_true", help="1 run of 0.3 s per configuration: a smoke run")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the client to CPU 0 and server i (with its workers) to CPU (i + 1) mod #CPUs; "
        "local baselines always run unpinned",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 0.3
    console = Console(width=None if sys.stdout.isatty() else 150)
    all_cpus = os.sched_getaffinity(0)
    ncpu = len(all_cpus)

    def server_cpus(i: int) -> set[int] | None:
        return {sorted(all_cpus)[(i + 1) % ncpu]} if args.pin else None

    sizes = (8, 64, 256)
    rows: dict[str, Row] = {}
    for n in sizes:
        rows[f"sync{n}"] = Row(f"local SyncVectorEnv({n})", n, "one process")
    rows["async"] = Row(
        f"local AsyncVectorEnv({ASYNC_BASELINE_ENVS})", ASYNC_BASELINE_ENVS, "8 worker processes"
    )
    for n in sizes:
        rows[f"remote{n}"] = Row(
            f"RemoteVectorEnv, 1 server, {n} envs", n, "one session, same-host lane", remote=True
        )
    rows["grpc64"] = Row("RemoteVectorEnv, 1 server, 64 envs", 64, "one session, gRPC path", remote=True)
    rows["remote2x32"] = Row("RemoteVectorEnv, 2 servers x 32 envs", 64, "stepped concurrently", remote=True)
    for n in (64, 256):
        rows[f"sharded{n}"] = Row(
            f"RemoteVectorEnv, 1 server, {n} envs", n, "workers_per_session=2", remote=True
        )
    for n in sizes:
        rows[f"native{n}"] = Row(
            f"RemoteVectorEnv, 1 server, {n} envs", n, "vectorization_mode=vector_entry_point", remote=True
        )

    with contextlib.ExitStack() as stack:
        # Local baselines are created (and their worker processes forked) before any pinning.
        local_envs: dict[str, gym.vector.VectorEnv[Any, Any, Any]] = {
            f"sync{n}": gym.vector.SyncVectorEnv([lambda: gym.make(ENV_ID) for _ in range(n)]) for n in sizes
        }
        local_envs["async"] = gym.vector.AsyncVectorEnv(
            [lambda: gym.make(ENV_ID) for _ in range(ASYNC_BASELINE_ENVS)]
        )
        for envs in local_envs.values():
            stack.callback(envs.close)
        first = stack.enter_context(server_process({}, server_cpus(0)))
        second = stack.enter_context(server_process({}, server_cpus(1)))
        # The two processes of its sessions would share one CPU if pinned like the others: left unpinned.
        sharded = stack.enter_context(server_process({"workers_per_session": 2}, None))
        remote_envs: dict[str, gym.vector.VectorEnv[Any, Any, Any]] = {
            f"remote{n}": RemoteVectorEnv(ENV_ID, n, address=first) for n in sizes
        }
        remote_envs["grpc64"] = RemoteVectorEnv(
            ENV_ID, 64, address=first, config=ClientConfig(same_host_lane=False)
        )
        remote_envs["remote2x32"] = RemoteVectorEnv(ENV_ID, 64, address=[first, second])
        for n in (64, 256):
            remote_envs[f"sharded{n}"] = RemoteVectorEnv(ENV_ID, n, address=sharded)
        for n in sizes:
            remote_envs[f"native{n}"] = RemoteVectorEnv(
                ENV_ID, n, address=first, vectorization_mode="vector_entry_point"
            )
        for envs in remote_envs.values():
            stack.callback(envs.close)
        measures: list[tuple[str, Callable[[], float]]] = [
            (key, lambda envs=envs: env_steps_per_s(envs, args.seconds))  # type: ignore[misc]
            for key, envs in {**local_envs, **remote_envs}.items()
        ]
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("benchmark", total=args.runs * len(measures))
            for _ in range(args.runs):
                results: dict[str, float] = {}
                for key, measure in measures:
                    progress.update(task, description=rows[key].name)
                    if args.pin:
                        os.sched_setaffinity(0, {min(all_cpus)} if rows[key].remote else all_cpus)
                    results[key] = measure()
                    progress.advance(task)
                os.sched_setaffinity(0, all_cpus)
                for key, value in results.items():
                    row = rows[key]
                    row.samples.append(value)
                    row.vs_async.append(value / results["async"])
                    sync_key = f"sync{row.num_envs}"
                    if sync_key in results:
                        row.vs_sync.append(value / results[sync_key])

    placement = (
        f"pinned: client CPU 0, server i and its workers CPU (i+1) mod {ncpu}; "
        "the workers_per_session=2 server and local baselines unpinned"
        if args.pin
        else "not pinned"
    )
    _print(console, rows, args, placement)
    return 0


def _print(console: Console, rows: dict[str, Row], args: argparse.Namespace, placement: str) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    table = Table(
        title=f"{ENV_ID} vector envs - medians over {args.runs} run(s) of {args.seconds:g} s",
        caption=f"{os.cpu_count()} CPUs, load average {load}; placement: {placement}",
    )
    for col in (
        "configuration",
        "envs",
        "env-steps/s",
        "min-max",
        f"x Async({ASYNC_BASELINE_ENVS})",
        "x Sync(N)",
        "note",
    ):
        table.add_column(col, justify="left" if col in ("configuration", "note") else "right")
    for row in rows.values():
        table.add_row(
            row.name,
            str(row.num_envs),
            f"{_median(row.samples):,.0f}",
            f"{min(row.samples):,.0f}-{max(row.samples):,.0f}",
            f"{_median(row.vs_async):.2f}",
            f"{_median(row.vs_sync):.2f}" if row.vs_sync else "",
            row.note,
        )
    console.print(table)
    for key, how in (
        ("remote64", "default sync mode, same-host lane"),
        ("grpc64", "default sync mode, gRPC path"),
        ("native64", "vector_entry_point mode, same-host lane"),
    ):
        target = rows[key]
        speed, ratio = _median(target.samples), _median(target.vs_async)
        console.print(
            f"64 envs in one remote session ({how}): {speed:,.0f} env-steps/s, "
            f"{ratio:.2f} x AsyncVectorEnv({ASYNC_BASELINE_ENVS}) (same-host target >= 5: "
            f"{'met' if ratio >= 5 else 'NOT met'})"
        )


if __name__ == "__main__":
    sys.exit(main())
