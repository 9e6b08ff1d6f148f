"""EnvCluster with a hub: the servers dial it, the trainer needs its one address."""

from __future__ import annotations

import gymnasium as gym
from ray.cluster_utils import Cluster

from remote_gym.client.info import server_info
from remote_gym.ray import EnvCluster
from remote_gym.ray.status import running_servers
from tests.ray.netns.conftest import assert_lock_step, ray

SERVER = {"num_cpus": 1, "resources": {"machine": 0.1}}


def test_vector_env_through_the_clusters_hub_equals_sync_vector_env(ray_cluster: Cluster) -> None:
    """Two servers on two nodes dial the cluster's hub; a vector env over its one address equals SyncVectorEnv."""
    local = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(4)])
    with EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER, hub=True) as cluster:
        assert cluster.address is not None
        assert cluster.addresses == [cluster.address]
        info = server_info(cluster.address)
        assert info.hosting == "hub"
        assert sorted(h.state for h in info.hosts) == ["attached", "attached"]
        assert all(s.address is None and s.state == "ALIVE" for s in cluster.servers)  # they listen nowhere
        assert len({s.node_id for s in cluster.servers}) == 2
        listed = {row["name"]: row for row in running_servers()}  # `remote-gym ray status`
        assert listed[f"{cluster.name}/hub"]["address"] == cluster.address
        remote = cluster.make_vec(4)
        try:
            assert remote.envs_per_host == (2, 2)
            assert_lock_step(remote, local, seed=11, action_seed=5, steps=200)
        finally:
            remote.close()
            local.close()
        name = cluster.name
    named = ray.util.list_named_actors(all_namespaces=True)
    assert not [a for a in named if a["name"].startswith(name)]  # servers and hub removed
