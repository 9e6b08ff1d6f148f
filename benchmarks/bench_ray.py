"""Benchmark remote-gym on Ray: launch time, step throughput against hand-started servers, node-loss recovery.

Usage:
    uv run python benchmarks/bench_ray.py             # 5 runs
    uv run python benchmarks/bench_ray.py --quick     # a smoke run

Runs on a local 2-node Ray cluster (``ray.cluster_utils.Cluster``). As root on Linux the script first
moves itself into a fresh network namespace that has only loopback (``unshare --net``), where Ray
uses 127.0.0.1; elsewhere it runs as it is. Tables show medians over runs; the throughput ratio is
computed within each run (Ray-launched and hand-started servers measured back to back). Processes
are not pinned.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
from bench_vector import env_steps_per_s, server_process
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from remote_gym import RemoteVectorEnv

_IN_NETNS = "REMOTE_GYM_BENCH_IN_NETNS"
OBJECT_STORE_BYTES = 80 * 1024 * 1024
SERVER = {"num_cpus": 1, "resources": {"machine": 0.1}}
NUM_ENVS = 64


def _reexec_in_netns() -> None:
    """Run this script again inside a loopback-only network namespace, when we may create one."""
    if os.environ.get(_IN_NETNS) or not sys.platform.startswith("linux") or os.geteuid() != 0:
        return
    env = {**os.environ, _IN_NETNS: "1", "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    enter = 'ip link set lo up && exec "$0" "$@"'
    command = ["unshare", "--net", "--", "sh", "-c", enter, sys.executable, *sys.argv]
    raise SystemExit(subprocess.run(command, env=env).returncode)


def _add_machine(cluster: Any) -> Any:
    return cluster.add_node(num_cpus=2, object_store_memory=OBJECT_STORE_BYTES, resources={"machine": 1})


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds of every measurement (default 5)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per throughput measurement")
    parser.add_argument("--quick", action="store_true", help="2 runs of 0.5 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 2, 0.5
    _reexec_in_netns()
    import ray
    from ray.cluster_utils import Cluster

    from remote_gym.ray import EnvCluster

    console = Console()
    launch: dict[int, list[float]] = {2: [], 4: []}
    ray_rates: list[float] = []
    hand_rates: list[float] = []
    ratios: list[float] = []
    recovery: list[float] = []
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "object_store_memory": OBJECT_STORE_BYTES,
            "include_dashboard": False,
            "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
        },
    )
    try:
        for _ in range(2):
            _add_machine(cluster)
        ray.init(address=cluster.address, namespace="remote-gym", log_to_driver=False)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("runs", total=args.runs)
            for _ in range(args.runs):
                for count in (2, 4):
                    start = time.perf_counter()
                    with EnvCluster.launch("CartPole-v1", num_servers=count, server_resources=SERVER):
                        launch[count].append(time.perf_counter() - start)
                with (
                    EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER) as envs_cluster,
                    server_process({}, None) as a,
                    server_process({}, None) as b,
                ):
                    with envs_cluster.make_vec(NUM_ENVS) as envs:
                        ray_rate = env_steps_per_s(envs, args.seconds)
                    with RemoteVectorEnv("CartPole-v1", NUM_ENVS, address=[a, b]) as envs:
                        hand_rate = env_steps_per_s(envs, args.seconds)
                    ray_rates.append(ray_rate)
                    hand_rates.append(hand_rate)
                    ratios.append(ray_rate / hand_rate)
                    recovery.append(_recovery_s(cluster, envs_cluster))
                progress.advance(task)
    finally:
        ray.shutdown()
        cluster.shutdown()
    median = statistics.median
    table = Table(title=f"remote-gym on Ray: local 2-node cluster, medians of {args.runs} runs")
    for column in ("measurement", "median", "goal"):
        table.add_column(column, justify="right" if column != "measurement" else "left")
    table.add_row("launch 2 servers (to all healthy)", f"{median(launch[2]):.2f} s", "")
    table.add_row("launch 4 servers (to all healthy)", f"{median(launch[4]):.2f} s", "")
    table.add_row(
        f"{NUM_ENVS} CartPole envs, 2 Ray-launched servers", f"{median(ray_rates):,.0f} env-steps/s", ""
    )
    table.add_row(
        f"{NUM_ENVS} CartPole envs, 2 hand-started servers", f"{median(hand_rates):,.0f} env-steps/s", ""
    )
    table.add_row("ratio Ray / hand-started (same run)", f"{median(ratios):.3f}", ">= 0.95")
    table.add_row("node lost -> stepping at full width", f"{median(recovery):.2f} s", "<= 10 s")
    console.print(table)
    console.print(
        f"per run: ratios {[round(r, 3) for r in ratios]}, recovery {[round(r, 2) for r in recovery]} s"
    )
    return 0


def _recovery_s(cluster: Any, envs_cluster: Any) -> float:
    """Seconds from removing the node of server 1 to a full-width step (a new node joins at once)."""
    with envs_cluster.make_vec(8, on_env_failure="restart") as envs:
        envs.reset(seed=0)
        envs.step(envs.action_space.sample())
        node_id = envs_cluster.servers[1].node_id
        node = next(n for n in cluster.worker_nodes if n.node_id == node_id)
        start = time.perf_counter()
        cluster.remove_node(node)
        _add_machine(cluster)
        envs.step(envs.action_space.sample())  # blocks while the server is restarted elsewhere
        while True:  # NEXT_STEP: the restarted sub-envs reset on this step; then all 8 step again
            _, _, _, _, infos = envs.step(envs.action_space.sample())
            if not np.any(infos.get("_env_restarted", False)):
                return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
