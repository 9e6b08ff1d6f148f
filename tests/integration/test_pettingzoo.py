"""PettingZoo envs served and used as if local: PettingZoo's own tests, trajectories, errors, batches."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

import pettingzoo
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

from remote_gym import errors
from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.info import server_info
from remote_gym.pettingzoo import (
    RemoteAECEnv,
    RemoteAgentVectorEnv,
    RemoteParallelEnv,
    SB3VecEnvMethods,
    to_sb3_vec_env,
)
from remote_gym.testing import agent_envs
from remote_gym.testing.agent_checks import assert_aec_trajectories_equal, assert_parallel_trajectories_equal
from remote_gym.testing.server import running_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ENVS: dict[str, Any] = {
    "skirmish": {"pettingzoo": "remote_gym.testing.agent_envs", "allowed_kwargs": ["max_cycles"]},
    "pursuit": {"pettingzoo": "remote_gym.testing.agent_envs:uniform_parallel_env"},
    "rps": {"pettingzoo": "classic/rps-v2"},
    "CartPole-v1": {"gym_id": "CartPole-v1"},
}


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A server hosting the test envs, a classic game and a Gymnasium env."""
    with running_server(ENVS, max_sessions=0) as server:
        yield server.address


@pytest.fixture
def parallel(address: str) -> Iterator[RemoteParallelEnv]:
    """A remote Skirmish Parallel env."""
    env = RemoteParallelEnv(address, env="skirmish")
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def aec(address: str) -> Iterator[RemoteAECEnv]:
    """A remote Skirmish AEC env."""
    env = RemoteAECEnv(address, env="skirmish")
    try:
        yield env
    finally:
        env.close()


def _quiet(check: Any, *args: Any, **kwargs: Any) -> None:
    """Run a PettingZoo test, whose style advice (UserWarning) is not ours to fail on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(*args, **kwargs)


def test_parallel_api_test_passes(parallel: RemoteParallelEnv) -> None:
    """PettingZoo's parallel_api_test passes on a remote Parallel env whose agents die and join."""
    _quiet(parallel_api_test, parallel, num_cycles=100)


def test_api_test_passes(aec: RemoteAECEnv) -> None:
    """PettingZoo's api_test passes on a remote AEC env (a Parallel env served as AEC)."""
    _quiet(api_test, aec, num_cycles=100)


def test_seed_tests_pass(address: str) -> None:
    """PettingZoo's seed_test and parallel_seed_test pass on remote envs."""
    _quiet(parallel_seed_test, lambda: RemoteParallelEnv(address, env="skirmish"))
    _quiet(seed_test, lambda: RemoteAECEnv(address, env="skirmish"))


def test_classic_aec_env_api_and_trajectory(address: str) -> None:
    """A classic game (rock-paper-scissors, PettingZoo core) passes api_test and plays as the local one."""
    with RemoteAECEnv(address, env="rps") as remote:
        _quiet(api_test, remote, num_cycles=30)
    with RemoteAECEnv(address, env="rps") as remote:
        assert (
            assert_aec_trajectories_equal(pettingzoo.make("aec", "classic/rps-v2"), remote, seed=3, steps=60)
            > 10
        )


def test_parallel_trajectory_equals_local(parallel: RemoteParallelEnv) -> None:
    """Seeded Parallel trajectories (deaths, a join, episode ends) equal the local env's exactly."""
    assert assert_parallel_trajectories_equal(agent_envs.parallel_env(), parallel, seed=7, steps=60) == 60


def test_aec_trajectory_equals_local(aec: RemoteAECEnv) -> None:
    """Seeded AEC turns (last(), rewards, terminations, infos) equal the local env's exactly."""
    assert assert_aec_trajectories_equal(agent_envs.env(), aec, seed=11, steps=40) > 10


def test_agents_die_and_join(parallel: RemoteParallelEnv) -> None:
    """The agents list follows the env: the reserve joins at step 3, dead agents leave."""
    parallel.reset(seed=0)
    assert parallel.agents == ["fighter_0", "fighter_1", "fighter_2"]
    for _ in range(3):
        parallel.step({agent: 1 for agent in parallel.agents})
    assert "reserve_0" in parallel.agents
    while parallel.agents:
        parallel.step({agent: 0 for agent in parallel.agents})
    assert parallel.agents == []


def test_spaces_state_and_masks(parallel: RemoteParallelEnv) -> None:
    """Spaces are cached per agent, state() comes from the server, masks come in observations and infos."""
    assert parallel.observation_space("fighter_0") is parallel.observation_space("fighter_0")
    assert parallel.action_space("reserve_0").n == 1
    observations, infos = parallel.reset(seed=5)
    local = agent_envs.parallel_env()
    local.reset(seed=5)
    np.testing.assert_array_equal(parallel.state(), local.state())
    assert parallel.state_space == local.state_space
    np.testing.assert_array_equal(observations["fighter_1"]["action_mask"], infos["fighter_1"]["action_mask"])


def test_render_frames_equal_local(address: str) -> None:
    """render() returns the server env's rgb_array frame."""
    with RemoteParallelEnv(address, env="skirmish", render_mode="rgb_array") as remote:
        local = agent_envs.parallel_env(render_mode="rgb_array")
        remote.reset(seed=2)
        local.reset(seed=2)
        np.testing.assert_array_equal(remote.render(), local.render())


def test_unknown_agent_is_refused(parallel: RemoteParallelEnv) -> None:
    """An action for an agent the env never has is an UnknownAgentError; the session goes on."""
    parallel.reset(seed=0)
    with pytest.raises(errors.UnknownAgentError, match="nobody"):
        parallel.step({"nobody": 0})
    with pytest.raises(errors.UnknownAgentError):
        parallel.action_space("nobody")
    parallel.step({agent: 1 for agent in parallel.agents})


def test_dead_agent_action_is_refused(parallel: RemoteParallelEnv) -> None:
    """An action for an agent not alive (the reserve before it joins) is a DeadAgentError."""
    parallel.reset(seed=0)
    with pytest.raises(errors.DeadAgentError, match="reserve_0"):
        parallel.step({"reserve_0": 0})


def test_action_outside_space_is_refused(parallel: RemoteParallelEnv) -> None:
    """An action outside its agent's space is an InvalidActionError the env never sees."""
    parallel.reset(seed=0)
    with pytest.raises(errors.InvalidActionError, match="fighter_0"):
        parallel.step({"fighter_0": 7})


def test_aec_dead_agent_needs_none(aec: RemoteAECEnv) -> None:
    """In an AEC env, a done agent's last step takes None: another action is a DeadAgentError."""
    aec.reset(seed=0)
    for _ in aec.agent_iter(200):
        _, _, termination, truncation, _ = aec.last()
        if termination or truncation:
            with pytest.raises(errors.DeadAgentError):
                aec.step(1)
            aec.step(None)
            return
        aec.step(0)
    pytest.fail("no agent was ever done")


def test_pettingzoo_env_asked_as_gymnasium_env(address: str) -> None:
    """A PettingZoo env asked for as a Gymnasium env is an EnvKindError."""
    with pytest.raises(errors.EnvKindError, match="PettingZoo"):
        RemoteEnvironment(address=address, env="skirmish")


def test_gymnasium_env_asked_as_pettingzoo_env(address: str) -> None:
    """A Gymnasium env asked for as a PettingZoo env is an EnvKindError."""
    with pytest.raises(errors.EnvKindError, match="Gymnasium"):
        RemoteParallelEnv(address, env="CartPole-v1")


def test_allowed_kwargs_reach_the_env(address: str) -> None:
    """Allow-listed kwargs reach the PettingZoo env; others are refused."""
    with RemoteParallelEnv(address, env="skirmish", kwargs={"max_cycles": 2}) as env:
        env.reset(seed=0)
        env.step({agent: 1 for agent in env.agents})
        *_, truncations, _ = env.step({agent: 1 for agent in env.agents})
        assert all(truncations.values())
    with pytest.raises(errors.PermissionDeniedError):
        RemoteParallelEnv(address, env="pursuit", kwargs={"n_agents": 5})


def test_vector_env_over_two_servers_equals_local_copies(address: str) -> None:
    """Copies on two servers step as one vector env over every agent, as local copies would."""
    with running_server({"pursuit": ENVS["pursuit"]}) as other:
        venv = RemoteAgentVectorEnv([address, other.address], copies=[2, 1], env="pursuit")
        try:
            assert venv.num_envs == 3 * 3
            observations, _ = venv.reset(seed=4)
            local = [agent_envs.uniform_parallel_env() for _ in range(3)]
            expected = [env.reset(seed=4 + c)[0] for c, env in enumerate(local)]
            np.testing.assert_array_equal(observations, np.stack([o[a] for o in expected for a in o]))
            rng = np.random.default_rng(0)
            for t in range(25):
                actions = rng.integers(0, 3, venv.num_envs)
                observations, rewards, _, truncated, infos = venv.step(actions)
                for c, env in enumerate(local):
                    step = {a: actions[c * 3 + i] for i, a in enumerate(env.possible_agents)}
                    obs, rew, _, trunc, _ = env.step(step)
                    row = slice(c * 3, c * 3 + 3)
                    np.testing.assert_array_equal(rewards[row], np.float32(list(rew.values())))
                    np.testing.assert_array_equal(truncated[row], list(trunc.values()))
                    if env.agents:
                        np.testing.assert_array_equal(observations[row], np.stack(list(obs.values())))
                    else:  # the copy reset in the same step; its final observation is in the info
                        np.testing.assert_array_equal(infos["final_observation"][c * 3], obs["chaser_0"])
                        env.reset()
                assert observations.shape == (9, 8), t
        finally:
            venv.close()


def test_sb3_methods_over_remote_copies(address: str) -> None:
    """The SB3 VecEnv methods (tested without SB3, which needs torch) give SB3's step shape."""
    adapter = SB3VecEnvMethods(RemoteAgentVectorEnv([address], copies=2, env="pursuit"))
    try:
        adapter.seed(1)
        observations = adapter.reset()
        assert observations.shape == (6, 8)
        dones = np.zeros(6, bool)
        for _ in range(20):
            observations, _, dones, infos = adapter.step(np.ones(6, dtype=np.int64))
        assert dones.all()
        assert len(infos) == 6
        assert all(info["TimeLimit.truncated"] for info in infos)
        assert infos[0]["terminal_observation"].shape == (8,)
        assert adapter.env_is_wrapped(object) == [False] * 6
    finally:
        adapter.close()


def test_batched_session_needs_uniform_spaces(address: str) -> None:
    """Copies of an env whose agents have different (or non-array) spaces cannot be batched: EnvKindError."""
    with pytest.raises(errors.EnvKindError, match="a batched session needs"):
        RemoteAgentVectorEnv([address], copies=1, env="skirmish")


def test_sb3_adapter_is_an_sb3_vec_env(address: str) -> None:
    """With Stable-Baselines3 installed, to_sb3_vec_env gives an SB3 VecEnv; without it, a typed error."""
    venv = RemoteAgentVectorEnv([address], copies=1, env="pursuit")
    try:
        if importlib.util.find_spec("stable_baselines3") is None:
            with pytest.raises(errors.DependencyNotInstalledError, match="train"):
                to_sb3_vec_env(venv)
            pytest.skip(
                "Stable-Baselines3 (which needs PyTorch) is not installed: only the refusal was checked"
            )
        from stable_baselines3.common.vec_env import VecEnv

        adapter = to_sb3_vec_env(venv)
        assert isinstance(adapter, VecEnv)
        assert adapter.reset().shape == (3, 8)
    finally:
        venv.close()


def test_server_info_tells_the_kind(address: str) -> None:
    """server_info() says which hosted envs are PettingZoo envs and which Gymnasium envs."""
    kinds = {env.name: env.kind for env in server_info(address).environments}
    assert kinds == {
        "skirmish": "pettingzoo",
        "pursuit": "pettingzoo",
        "rps": "pettingzoo",
        "CartPole-v1": "gymnasium",
    }


def test_a_parallel_env_through_a_hub_equals_the_local_env() -> None:
    """A PettingZoo env on a host that dials out to a hub is used through the hub as if local."""
    from remote_gym.server.config import ServerConfig
    from remote_gym.server.registry import make_entry
    from remote_gym.server.server import EnvServer
    from tests.support.hub import HOST_TOKEN, hub_with_hosts, wait_for_hosts

    with hub_with_hosts(()) as (hub, hosts):
        entry = make_entry("skirmish", pettingzoo="remote_gym.testing.agent_envs")
        config = ServerConfig(
            environments=(entry,), dial=(hub.address,), dial_name="agents", dial_token=HOST_TOKEN
        )
        hosts.append(EnvServer(config).start())
        wait_for_hosts(hub, ["agents"])
        remote = RemoteParallelEnv(hub.address, env="skirmish")
        try:
            assert (
                assert_parallel_trajectories_equal(agent_envs.parallel_env(), remote, seed=7, steps=60) == 60
            )
        finally:
            remote.close()


def test_a_parallel_env_on_spawned_workers_with_the_tcp_lane_equals_the_local_env() -> None:
    """On a server whose workers are spawned (the Windows and macOS path), with its TCP lane, too."""
    with running_server(ENVS, worker_start="spawn", lane_transport="tcp") as server:
        remote = RemoteParallelEnv(server.address, env="skirmish")
        try:
            assert remote._session.conn().path == "lane"  # the TCP lane
            assert (
                assert_parallel_trajectories_equal(agent_envs.parallel_env(), remote, seed=7, steps=60) == 60
            )
        finally:
            remote.close()
