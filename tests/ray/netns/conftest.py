"""A local multi-node Ray cluster (each node a 'machine' resource), shared by the Ray tests."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

OBJECT_STORE_BYTES = 80 * 1024 * 1024
NODE_CPUS = 2


def add_machine(cluster: Cluster) -> object:
    """Add a worker node standing for one machine: two CPUs and the custom resource ``machine``."""
    return cluster.add_node(
        num_cpus=NODE_CPUS, object_store_memory=OBJECT_STORE_BYTES, resources={"machine": 1}
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    """A head node that hosts no servers (0 CPUs) and two 'machines'; this process is its driver."""
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "object_store_memory": OBJECT_STORE_BYTES,
            "include_dashboard": False,
            # Notice a lost node within ~2 s instead of ~30 s.
            "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
        },
    )
    try:
        for _ in range(2):
            add_machine(cluster)
        ray.init(address=cluster.address, namespace="remote-gym", log_to_driver=False)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def processes_of(cluster_name: str) -> list[int]:
    """Pids of live processes that belong to the named EnvCluster (servers, zygotes, workers)."""
    marker = f"REMOTE_GYM_CLUSTER={cluster_name}".encode()
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:
                    pids.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in pids if pid != os.getpid()]
