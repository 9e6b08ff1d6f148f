"""A local multi-node Ray cluster (each node a 'machine' resource), shared by the Ray tests."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from remote_gym.ray.local import add_machine, local_cluster  # noqa: E402

__all__ = ["add_machine", "assert_lock_step", "processes_of"]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    """A head node that hosts no servers (0 CPUs) and two 'machines'; this process is its driver."""
    with local_cluster(machines=2) as cluster:
        yield cluster


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


def assert_lock_step(
    remote: gym.vector.VectorEnv, local: gym.vector.VectorEnv, *, seed: int, action_seed: int, steps: int
) -> None:
    """``remote`` gives exactly ``local``'s observations, rewards and flags for ``steps`` seeded random steps."""
    obs, _ = remote.reset(seed=seed)
    expected, _ = local.reset(seed=seed)
    np.testing.assert_array_equal(obs, expected)
    local.action_space.seed(action_seed)
    for _ in range(steps):
        actions = local.action_space.sample()
        got = remote.step(actions)
        want = local.step(actions)
        for a, b in zip(got[:4], want[:4], strict=True):
            np.testing.assert_array_equal(a, b)
