"""A Ray cluster of several nodes on this one machine: for benchmarks, tests and trying EnvCluster out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import ray
from ray.cluster_utils import Cluster

OBJECT_STORE_BYTES = 80 * 1024 * 1024
"""Object store of each node: small, remote-gym passes nothing through it."""

MACHINE_CPUS = 2
"""CPUs of each node standing for a machine."""


def add_machine(cluster: Cluster) -> Any:
    """Add a node standing for one machine: ``MACHINE_CPUS`` CPUs and the custom resource ``machine``."""
    return cluster.add_node(
        num_cpus=MACHINE_CPUS, object_store_memory=OBJECT_STORE_BYTES, resources={"machine": 1}
    )


@contextlib.contextmanager
def local_cluster(machines: int = 2) -> Iterator[Cluster]:
    """A head node hosting no servers (0 CPUs) and ``machines`` nodes; this process is its driver.

    A lost node is noticed within ~2 s instead of Ray's default ~30 s. Everything is shut down on exit.
    """
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
        for _ in range(machines):
            add_machine(cluster)
        ray.init(address=cluster.address, namespace="remote-gym", log_to_driver=False)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()  # type: ignore[no-untyped-call]
