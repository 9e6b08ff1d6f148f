"""EnvCluster on a local multi-node Ray cluster: placement, lock-step results, TLS/token, teardown."""

from __future__ import annotations

import os
import pathlib
import time

import gymnasium as gym
import pytest
from ray.cluster_utils import Cluster

from remote_gym.client.info import server_info
from remote_gym.errors import AuthenticationError, ConfigError, ServerStartError
from remote_gym.ray import EnvCluster
from remote_gym.transport.certs import CertPaths
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig
from tests.ray.netns.conftest import assert_lock_step, processes_of, ray
from tests.support.git_origin import ACROBOT_ENTRY, CARTPOLE_ENTRY, Origin

SERVER = {"num_cpus": 1, "resources": {"machine": 0.1}}


def test_servers_land_on_distinct_nodes(ray_cluster: Cluster) -> None:
    """SPREAD puts two servers on two nodes, each answering at its own address."""
    with EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER) as cluster:
        servers = cluster.servers
        assert [s.state for s in servers] == ["ALIVE", "ALIVE"]
        assert len({s.node_id for s in servers}) == 2
        assert len(set(cluster.addresses)) == 2
        assert all(a.startswith("127.0.0.1:") for a in cluster.addresses)


def test_vector_env_equals_sync_vector_env(ray_cluster: Cluster) -> None:
    """A vector env over two Ray-launched servers equals a local SyncVectorEnv for 300 seeded steps."""
    local = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(6)])
    with EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER) as cluster:
        remote = cluster.make_vec(6)
        try:
            assert remote.envs_per_host == (3, 3)
            assert_lock_step(remote, local, seed=7, action_seed=3, steps=300)
        finally:
            remote.close()
            local.close()


def test_close_leaves_nothing(ray_cluster: Cluster) -> None:
    """Server processes run at niceness 0 (not Ray's 15); close() stops them all, the actors and the group."""
    cluster = EnvCluster.launch("CartPole-v1", num_servers=2, server_resources=SERVER)
    try:
        envs = cluster.make_vec(4)
        envs.reset(seed=0)
        assert processes_of(cluster.name)
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in processes_of(cluster.name)} == {0}
        envs.close()
    finally:
        cluster.close()
    cluster.close()  # idempotent
    deadline = time.monotonic() + 15
    while processes_of(cluster.name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(cluster.name) == []
    named = ray.util.list_named_actors(all_namespaces=True)
    assert not [a for a in named if a["name"].startswith(cluster.name)]
    groups = ray.util.placement_group_table().values()
    assert all(g["state"] == "REMOVED" for g in groups)


def test_broken_entrypoint_fails_fast_naming_the_node(ray_cluster: Cluster, tmp_path: pathlib.Path) -> None:
    """An entrypoint that cannot be imported fails the launch within seconds, naming node and cause."""
    entry = tmp_path / "broken_entry.py"
    entry.write_text("import package_that_is_not_installed\n")
    start = time.monotonic()
    with pytest.raises(ServerStartError) as info:
        EnvCluster.launch(entrypoint=entry, num_servers=1, server_resources=SERVER, start_timeout=60)
    assert time.monotonic() - start < 30
    assert info.value.node_id in {n["NodeID"] for n in ray.nodes()}
    assert "package_that_is_not_installed" in str(info.value)
    assert not ray.util.list_named_actors(all_namespaces=True)


def test_entrypoint_is_shipped_to_the_nodes(ray_cluster: Cluster, tmp_path: pathlib.Path) -> None:
    """An entrypoint file and its directory travel to the nodes in Ray's runtime environment."""
    (tmp_path / "entry_helper.py").write_text("ENV_ID = 'Acrobot-v1'\n")
    (tmp_path / "my_entry.py").write_text(
        "import gymnasium as gym\nfrom entry_helper import ENV_ID\n\n"
        "def create_environment(enable_rendering, env_id, **kwargs):\n    return gym.make(ENV_ID)\n"
    )
    with EnvCluster.launch(entrypoint=tmp_path / "my_entry.py", server_resources=SERVER) as cluster:
        envs = cluster.make_vec(2)
        try:
            assert envs.single_action_space == gym.spaces.Discrete(3)
        finally:
            envs.close()


def test_unplaceable_servers_fail_in_bounded_time(ray_cluster: Cluster) -> None:
    """Servers asking for resources no node has fail the launch after start_timeout, saying so."""
    with pytest.raises(ServerStartError, match="could not be placed"):
        EnvCluster.launch(
            "CartPole-v1", server_resources={"resources": {"no-such-machine": 1}}, start_timeout=3
        )
    assert not ray.util.list_named_actors(all_namespaces=True)


def test_tls_and_token_cluster(ray_cluster: Cluster, tls_material: CertPaths) -> None:
    """Servers launched with TLS and a token serve clients that have both, and refuse a wrong token."""
    tls = ServerTLSConfig(cert=tls_material.server_cert, key=tls_material.server_key)
    client_tls = TLSConfig(ca=tls_material.ca)
    with EnvCluster.launch(
        "CartPole-v1",
        num_servers=2,
        server_resources=SERVER,
        tls=tls,
        client_tls=client_tls,
        token="s3cret-token",
    ) as cluster:
        envs = cluster.make_vec(4)
        try:
            obs, _ = envs.reset(seed=1)
            assert obs.shape == (4, 4)
        finally:
            envs.close()
        with pytest.raises(AuthenticationError):
            cluster.make_vec(2, token="wrong-token")


def test_scale_up_and_down(ray_cluster: Cluster) -> None:
    """scale() adds servers that serve and removes the last ones with their processes."""
    with EnvCluster.launch("CartPole-v1", num_servers=1, server_resources=SERVER) as cluster:
        cluster.scale(2)
        assert len(cluster.addresses) == 2
        envs = cluster.make_vec(2)
        envs.close()
        cluster.scale(1)
        assert len(cluster.servers) == 1
        with pytest.raises(ConfigError):
            cluster.scale(0)


def test_every_node_runs_the_commit_resolved_at_launch(ray_cluster: Cluster, tmp_path: pathlib.Path) -> None:
    """Servers launched from a repo branch, and one added after the branch moved, all run the launch's commit."""
    origin = Origin(tmp_path / "remote")
    commit = origin.commit({"envs/entry.py": CARTPOLE_ENTRY})
    with EnvCluster.launch(
        entrypoint="envs/entry.py",
        repo=origin.url,
        reference="main",
        repo_cache_dir=tmp_path / "cache",
        num_servers=2,
        server_resources=SERVER,
    ) as cluster:
        origin.commit({"envs/entry.py": ACROBOT_ENTRY})  # the branch moves after the launch
        cluster.scale(3)
        for address in cluster.addresses:
            hosted = server_info(address).environments[0]
            assert (hosted.name, hosted.repo, hosted.commit) == ("entry", origin.url, commit)
        envs = cluster.make_vec(3)
        try:
            assert envs.reset(seed=0)[0].shape == (
                3,
                4,
            )  # CartPole everywhere, not the moved branch's Acrobot
        finally:
            envs.close()
