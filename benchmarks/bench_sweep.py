"""Env-steps/s of CartPole-v1 against the number of envs: remote-gym's two vector modes and AsyncVectorEnv.

Usage:
    uv run python benchmarks/bench_sweep.py --json                  # 3 runs of 1 s per configuration
    uv run python benchmarks/bench_sweep.py --sizes 1 8 64 --runs 5

Every run measures every configuration once, in turn, so machine noise spreads over all of them; the
report has every sample and the median over runs. The server runs in its own process, started the way
an operator starts one (a worker process per session, the same-host lane as a local client gets it).
Gymnasium's AsyncVectorEnv runs one process per env, so it is measured up to --async-max envs only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from bench_vector import env_steps_per_s, server_process
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from remote_gym import RemoteVectorEnv

ENV_ID = "CartPole-v1"
MODES = {
    "remote_sync": "remote-gym RemoteVectorEnv (default: SyncVectorEnv semantics)",
    "remote_vector": 'remote-gym RemoteVectorEnv, vectorization_mode="vector_entry_point"',
    "async": "gymnasium AsyncVectorEnv (local, one process per env)",
}


def _measure(make: Callable[[], gym.vector.VectorEnv[Any, Any, Any]], seconds: float) -> float:
    envs = make()
    try:
        return env_steps_per_s(envs, seconds)
    finally:
        envs.close()


def sweep(sizes: list[int], runs: int, seconds: float, async_max: int) -> dict[str, dict[str, list[float]]]:
    """Samples of env-steps/s: {mode: {num_envs: [one per run]}}."""
    samples: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    with server_process({}, None) as address, Progress(transient=True, console=Console(stderr=True)) as bar:
        plan: list[tuple[str, int, Callable[[], gym.vector.VectorEnv[Any, Any, Any]]]] = []
        for n in sizes:
            plan.append(("remote_sync", n, lambda n=n: RemoteVectorEnv(ENV_ID, n, address=address)))
            plan.append(
                (
                    "remote_vector",
                    n,
                    lambda n=n: RemoteVectorEnv(
                        ENV_ID, n, address=address, vectorization_mode="vector_entry_point"
                    ),
                )
            )
            if n <= async_max:
                plan.append(("async", n, lambda n=n: gym.make_vec(ENV_ID, n, vectorization_mode="async")))
        task = bar.add_task("sweep", total=runs * len(plan))
        for _ in range(runs):
            for mode, n, make in plan:
                bar.update(task, description=f"{mode} {n} envs")
                samples[mode].setdefault(str(n), []).append(_measure(make, seconds))
                bar.advance(task)
    return samples


def main(argv: list[str] | None = None) -> int:
    """Run the sweep; print a table, or JSON with --json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64, 256], help="numbers of envs")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are over runs; default 3)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--async-max", type=int, default=32, help="largest AsyncVectorEnv (default 32)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    samples = sweep(args.sizes, args.runs, args.seconds, args.async_max)
    report = {"env": ENV_ID, "runs": args.runs, "seconds": args.seconds, "modes": MODES, "samples": samples}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = Table(title=f"{ENV_ID} env-steps/s, medians over {args.runs} runs (not pinned)")
    table.add_column("envs", justify="right")
    for mode in MODES:
        table.add_column(mode, justify="right")
    for n in args.sizes:
        cells = [
            f"{statistics.median(samples[m][str(n)]):,.0f}" if str(n) in samples[m] else "—" for m in MODES
        ]
        table.add_row(str(n), *cells)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
