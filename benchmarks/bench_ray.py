"""Benchmark remote-gym on Ray: launch time, step throughput against hand-started servers, node-loss recovery.

Usage:
    uv run python benchmarks/bench_ray.py             # 5 runs
    uv run python benchmarks/bench_ray.py --quick     # a smoke run

Runs on a local 2-node Ray cluster (``ray.cluster_utils.Cluster``). As root on Linux the script first
moves itself into a fresh network namespace that has only loopback (``unshare --net``), where Ray
uses 127.0.0.1; elsewhere it runs as it is. Tables show medians over runs.

Throughput compares three sets of 2 servers, all up at once: Ray-launched ones as EnvCluster starts
them (niceness 0), Ray-launched ones at Ray's default worker niceness (15, as before EnvCluster set
it), and hand-started ones. Each run measures them in interleaved rounds, A B C C B A, starting with
a different set each run, so that a change of the machine's load during a run hits all of them
alike; a run's ratio is the sum of its Ray rounds over the sum of its hand-started rounds.
Processes are not pinned; the niceness of every server process is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from bench_vector import env_steps_per_s, server_process
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from remote_gym import RemoteVectorEnv
from remote_gym.ray.spec import RAY_NICENESS_VAR

_IN_NETNS = "REMOTE_GYM_BENCH_IN_NETNS"
SERVER = {"num_cpus": 1, "resources": {"machine": 0.1}}
NUM_ENVS = 64
KINDS = ["Ray-launched", "Ray-launched at nice 15", "hand-started"]


def _reexec_in_netns() -> None:
    """Run this script again inside a loopback-only network namespace, when we may create one."""
    if os.environ.get(_IN_NETNS) or not sys.platform.startswith("linux") or os.geteuid() != 0:
        return
    env = {**os.environ, _IN_NETNS: "1", "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    enter = 'ip link set lo up && exec "$0" "$@"'
    command = ["unshare", "--net", "--", "sh", "-c", enter, sys.executable, *sys.argv]
    raise SystemExit(subprocess.run(command, env=env).returncode)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds of every measurement (default 5)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per throughput measurement")
    parser.add_argument("--quick", action="store_true", help="2 runs of 0.5 s")
    parser.add_argument(
        "--load", type=int, default=0, help="busy-looping processes (nice 0) while throughput is measured"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 2, 0.5
    _reexec_in_netns()
    from remote_gym.ray import EnvCluster
    from remote_gym.ray.local import local_cluster

    console = Console()
    launch: dict[int, list[float]] = {2: [], 4: []}
    rates: dict[str, list[float]] = {name: [] for name in KINDS}
    ratios: dict[str, list[float]] = {name: [] for name in KINDS[:2]}
    niceness: dict[str, set[int]] = {name: set() for name in KINDS}
    recovery: list[float] = []
    with local_cluster(machines=2) as cluster, Progress(console=console, transient=True) as progress:
        task = progress.add_task("runs", total=args.runs)
        for run in range(args.runs):
            for count in (2, 4):
                start = time.perf_counter()
                with EnvCluster.launch("CartPole-v1", num_servers=count, server_resources=SERVER):
                    launch[count].append(time.perf_counter() - start)
            with (
                EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER) as envs_cluster,
                _niced_launch(EnvCluster, "15") as niced_cluster,
                server_process({}, None) as a,
                server_process({}, None) as b,
            ):
                vectors = {
                    KINDS[0]: envs_cluster.make_vec(NUM_ENVS),
                    KINDS[1]: niced_cluster.make_vec(NUM_ENVS),
                    KINDS[2]: RemoteVectorEnv("CartPole-v1", NUM_ENVS, address=[a, b]),
                }
                try:
                    for vector in vectors.values():
                        vector.reset(seed=0)
                    for name, owner in zip(KINDS, (envs_cluster.name, niced_cluster.name, None), strict=True):
                        niceness[name] |= _niceness(name, owner)
                    order = KINDS[run % 3 :] + KINDS[: run % 3]
                    sums = dict.fromkeys(KINDS, 0.0)
                    with _busy_processes(args.load):
                        for name in order + order[::-1]:  # A B C C B A
                            rate = env_steps_per_s(vectors[name], args.seconds)
                            rates[name].append(rate)
                            sums[name] += rate
                    for name in ratios:
                        ratios[name].append(sums[name] / sums[KINDS[2]])
                finally:
                    for vector in vectors.values():
                        vector.close()
                recovery.append(_recovery_s(cluster, envs_cluster))
            progress.advance(task)
    median = statistics.median
    load = f", {args.load} busy processes beside" if args.load else ""
    table = Table(title=f"remote-gym on Ray: local 2-node cluster, medians of {args.runs} runs{load}")
    for column in ("measurement", "median", "goal"):
        table.add_column(column, justify="right" if column != "measurement" else "left")
    table.add_row("launch 2 servers (to all healthy)", f"{median(launch[2]):.2f} s", "")
    table.add_row("launch 4 servers (to all healthy)", f"{median(launch[4]):.2f} s", "")
    for name in KINDS:
        table.add_row(
            f"{NUM_ENVS} CartPole envs, 2 {name} servers (nice {sorted(niceness[name])})",
            f"{median(rates[name]):,.0f} env-steps/s",
            "",
        )
    for name in ratios:
        goal = ">= 0.95" if name == KINDS[0] else ""
        table.add_row(f"ratio {name} / hand-started (same run)", f"{median(ratios[name]):.3f}", goal)
    table.add_row("node lost -> stepping at full width", f"{median(recovery):.2f} s", "<= 10 s")
    console.print(table)
    for name in ratios:
        console.print(f"per run, {name} / hand-started: {[round(r, 3) for r in ratios[name]]}")
    console.print(f"per run, recovery: {[round(r, 2) for r in recovery]} s; processes not pinned")
    return 0


@contextlib.contextmanager
def _niced_launch(env_cluster: Any, niceness: str) -> Iterator[Any]:
    """EnvCluster.launch of 2 servers at Ray worker niceness ``niceness`` (the driver's setting wins)."""
    previous = os.environ.get(RAY_NICENESS_VAR)
    os.environ[RAY_NICENESS_VAR] = niceness
    try:
        cluster = env_cluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER)
    finally:
        if previous is None:
            del os.environ[RAY_NICENESS_VAR]
        else:
            os.environ[RAY_NICENESS_VAR] = previous
    with cluster:
        yield cluster


@contextlib.contextmanager
def _busy_processes(count: int) -> Iterator[None]:
    """``count`` processes that loop on the CPU until the block ends (other work on a shared machine)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _processes() -> dict[int, tuple[int, int, bytes, bytes]]:
    """Every live process: pid -> (parent pid, niceness, command line, environment)."""
    table = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                table[int(entry.name)] = (
                    int(fields[1]),
                    int(fields[16]),
                    (entry / "cmdline").read_bytes(),
                    (entry / "environ").read_bytes(),
                )
            except (OSError, IndexError, ValueError):
                continue
    return table


def _niceness(kind: str, cluster_name: str | None) -> set[int]:
    """Niceness of the processes of a set of servers: a Ray cluster's (by the variable its processes
    inherit), or the hand-started servers (this script's server children) and their workers."""
    table = _processes()
    if cluster_name is not None:
        marker = f"REMOTE_GYM_CLUSTER={cluster_name}".encode()
        return {nice for _, nice, _, env in table.values() if marker in env.split(b"\0")}
    pids = {
        pid
        for pid, (ppid, _, cmd, _) in table.items()
        if ppid == os.getpid() and b"create_remote_environment_server" in cmd
    }
    found = set(pids)
    while True:  # descendants: zygotes and session workers
        more = {pid for pid, (ppid, *_) in table.items() if ppid in found} - found
        if not more:
            return {table[pid][1] for pid in found}
        found |= more


def _recovery_s(cluster: Any, envs_cluster: Any) -> float:
    """Seconds from removing the node of server 1 to a full-width step (a new node joins at once)."""
    from remote_gym.ray.local import add_machine

    with envs_cluster.make_vec(8, on_env_failure="restart") as envs:
        envs.reset(seed=0)
        envs.step(envs.action_space.sample())
        node_id = envs_cluster.servers[1].node_id
        node = next(n for n in cluster.worker_nodes if n.node_id == node_id)
        start = time.perf_counter()
        cluster.remove_node(node)
        add_machine(cluster)
        envs.step(envs.action_space.sample())  # blocks while the server is restarted elsewhere
        while True:  # NEXT_STEP: the restarted sub-envs reset on this step; then all 8 step again
            _, _, _, _, infos = envs.step(envs.action_space.sample())
            if not np.any(infos.get("_env_restarted", False)):
                return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
