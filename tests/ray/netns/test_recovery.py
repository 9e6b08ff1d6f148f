"""A node lost mid-run: Ray restarts its server elsewhere and the vector env follows it there."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from ray.cluster_utils import Cluster

from remote_gym.errors import TransportError
from remote_gym.ray import EnvCluster
from tests.ray.netns.conftest import add_machine, processes_of

SERVER = {"num_cpus": 1, "resources": {"machine": 0.1}}
RECOVERY_LIMIT_S = 30.0


def _node_of(ray_cluster: Cluster, node_id: str) -> object:
    return next(node for node in ray_cluster.worker_nodes if node.node_id == node_id)


def _assert_rows_equal(got: tuple, want: tuple, rows: slice) -> None:
    for a, b in zip(got[:4], want[:4], strict=True):
        np.testing.assert_array_equal(a[rows], b[rows])


def test_node_loss_recovers_on_a_replacement_node(ray_cluster: Cluster) -> None:
    """After a node's loss the lost sub-envs restart on a new node in bounded time; the others never notice."""
    local = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(6)])
    cluster = EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER)
    envs = strict = None
    try:
        envs = cluster.make_vec(6, on_env_failure="restart")
        strict = cluster.make_vec(2)  # on_env_failure="raise"
        strict.reset(seed=0)
        local.reset(seed=11)
        envs.reset(seed=11)
        local.action_space.seed(5)
        survivors = slice(0, 3)  # host 0's sub-envs
        for _ in range(60):
            actions = local.action_space.sample()
            _assert_rows_equal(envs.step(actions), local.step(actions), slice(None))
        lost = cluster.servers[1]
        ray_cluster.remove_node(_node_of(ray_cluster, lost.node_id))
        add_machine(ray_cluster)  # as an autoscaler would
        start = time.monotonic()
        actions = local.action_space.sample()
        got, want = envs.step(actions), local.step(actions)
        recovery_s = time.monotonic() - start
        assert recovery_s < RECOVERY_LIMIT_S
        _assert_rows_equal(got, want, survivors)
        assert got[3][3:].all()
        assert got[4]["env_restarted"][3:].all()
        assert not got[4]["_env_restarted"][:3].any()
        assert envs.hosts[1] != lost.address
        assert envs.hosts[1] == cluster.addresses[1]
        for _ in range(100):
            actions = local.action_space.sample()
            _assert_rows_equal(envs.step(actions), local.step(actions), survivors)
        record = cluster.servers[1]
        assert (record.state, record.restarts) == ("ALIVE", 1)
        assert record.node_id != lost.node_id
        with pytest.raises(TransportError, match=lost.address):
            strict.step(strict.action_space.sample())
    finally:
        for vector_env in (envs, strict):
            if vector_env is not None:
                vector_env.close()
        local.close()
        cluster.close()
    deadline = time.monotonic() + 15
    while processes_of(cluster.name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(cluster.name) == []


def test_a_restarted_trainer_gets_its_sessions_from_a_full_cluster_server_at_once(
    ray_cluster: Cluster,
) -> None:
    """A killed trainer's detached sessions yield at once to its restarted self on an EnvCluster's server."""
    from remote_gym import RemoteEnvironment
    from tests.support.raw_session import make_and_vanish

    cluster = EnvCluster.launch(
        "CartPole-v1",
        num_servers=1,
        server_resources=SERVER,
        server_config={"max_sessions": 2, "resume_window_s": 60.0},
    )
    try:
        address = cluster.addresses[0]
        for _ in range(2):  # the killed trainer: sessions that reset, then vanished
            make_and_vanish(address, reset=True)
        start = time.monotonic()
        envs = [RemoteEnvironment(address=address) for _ in range(2)]
        try:
            for env in envs:
                env.reset(seed=0)
                env.step(0)
            elapsed = time.monotonic() - start
        finally:
            for env in envs:
                env.close()
        assert elapsed < 5.0, elapsed  # 1 s on an idle machine; Ray's processes share the 2 cores here
    finally:
        cluster.close()
