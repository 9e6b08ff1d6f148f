"""Env servers on Ray: a local 2-node Ray cluster, 2 servers placed by EnvCluster, 16 envs, random actions.

Run:  uv sync --extra ray && uv run python examples/ray_cluster.py        (seconds on a laptop)
On a real Ray cluster (every node has remote-gym and the env's packages):
      uv run python examples/ray_cluster.py --ray-address auto --servers 8 --num-envs 256
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import ray
from ray.cluster_utils import Cluster
from rich.console import Console
from rich.table import Table

from remote_gym.ray import EnvCluster

OBJECT_STORE_BYTES = 80 * 1024 * 1024  # the envs' data never goes through Ray: keep its store small


@contextmanager
def ray_runtime(address: str | None, nodes: int) -> Iterator[None]:
    """Join the Ray cluster at ``address``; None: start a local one with ``nodes`` worker nodes of 2 CPUs.

    A Ray runtime already initialised in this process is used as it is.
    """
    if ray.is_initialized():
        yield
        return
    if address is not None:
        ray.init(address=address, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()
        return
    # A head that places no servers and `nodes` "machines", all processes of this computer.
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": False},
    )
    try:
        for _ in range(nodes):
            cluster.add_node(num_cpus=2, object_store_memory=OBJECT_STORE_BYTES)
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()


def main(argv: Sequence[str] | None = None) -> Table:
    """Launch the servers, step random actions, print and return a table of what each server did."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ray-address", default=None, help="Ray cluster to join (default: a local 2-node one)"
    )
    parser.add_argument("--servers", type=int, default=2, help="env servers to launch")
    parser.add_argument("--num-envs", type=int, default=16, help="sub-environments in total")
    parser.add_argument("--steps", type=int, default=500, help="vector steps to take")
    args = parser.parse_args(argv)

    console = Console()
    with ray_runtime(args.ray_address, nodes=2):
        start = time.perf_counter()
        with EnvCluster.launch("CartPole-v1", num_servers=args.servers, strategy="SPREAD") as cluster:
            launched_s = time.perf_counter() - start
            envs = cluster.make_vec(args.num_envs)  # a RemoteVectorEnv over every server
            try:
                envs.reset(seed=0)
                returns = np.zeros(args.num_envs)
                episodes: list[list[float]] = [[] for _ in range(args.num_envs)]
                start = time.perf_counter()
                for _ in range(args.steps):
                    _, rewards, terminated, truncated, _ = envs.step(envs.action_space.sample())
                    returns += rewards
                    for i in np.flatnonzero(terminated | truncated):
                        episodes[i].append(float(returns[i]))
                        returns[i] = 0.0
                rate = args.num_envs * args.steps / (time.perf_counter() - start)
                sizes = envs.envs_per_host
            finally:
                envs.close()
            table = Table(title=f"{args.num_envs} CartPole envs on {args.servers} Ray-launched servers")
            for column in ("server", "node", "address", "envs", "episodes", "mean return"):
                table.add_column(column, justify="right" if column in ("envs", "episodes") else "left")
            first = 0
            for record, size in zip(cluster.servers, sizes, strict=True):
                done = [r for per_env in episodes[first : first + size] for r in per_env]
                first += size
                mean = f"{np.mean(done):.1f}" if done else "-"
                node = (record.node_id or "?")[:8]
                table.add_row(str(record.index), node, str(record.address), str(size), str(len(done)), mean)
            console.print(table)
            console.print(f"launch {launched_s:.1f} s; {rate:,.0f} env-steps/s (random actions)")
    return table


if __name__ == "__main__":
    main()
