"""vectorization_mode="vector_entry_point": the server steps the env's own vectorised implementation."""

from __future__ import annotations

import pathlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import RemoteVectorEnv, make_vec
from remote_gym.errors import ConfigError, InvalidCallError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["CartPole-v1"])
def test_matches_local_make_vec_element_by_element(env_server: EnvServer, name: str) -> None:
    """1,000 steps equal gymnasium.make_vec(..., vectorization_mode="vector_entry_point") run locally."""
    local = gym.make_vec(name, 8, vectorization_mode="vector_entry_point")
    try:
        with make_vec(name, 8, address=env_server.address, vectorization_mode="vector_entry_point") as remote:
            assert remote.single_observation_space == local.single_observation_space
            assert remote.metadata["autoreset_mode"] == local.metadata["autoreset_mode"]
            assert data_equivalence(remote.reset(seed=4), local.reset(seed=4), exact=True)
            rng = np.random.default_rng(1)
            ends = 0
            for step in range(1000):
                actions = rng.integers(0, int(local.single_action_space.n), 8)
                a, b = remote.step(actions), local.step(actions)
                assert data_equivalence(a, b, exact=True), f"step {step}"
                ends += int(np.sum(b[2] | b[3]))
            assert name != "CartPole-v1" or ends > 20
    finally:
        local.close()


def test_env_without_vector_entry_point_is_refused(env_server: EnvServer) -> None:
    """An env with no vectorised implementation is refused with a clear error."""
    with pytest.raises(InvalidCallError, match="vector entry point"):
        RemoteVectorEnv("Taxi-v4", 2, address=env_server.address, vectorization_mode="vector_entry_point")


def test_unsupported_autoreset_mode_is_refused(env_server: EnvServer) -> None:
    """Asking for an autoreset mode the implementation does not have is refused, not silently changed."""
    with pytest.raises(InvalidCallError, match="only offers autoreset_mode NEXT_STEP"):
        RemoteVectorEnv(
            "CartPole-v1",
            2,
            address=env_server.address,
            vectorization_mode="vector_entry_point",
            autoreset_mode="SameStep",
        )


def test_unknown_vectorization_mode_is_config_error(env_server: EnvServer) -> None:
    """A misspelt mode fails before connecting."""
    with pytest.raises(ConfigError, match="vectorization_mode"):
        RemoteVectorEnv("CartPole-v1", 2, address=env_server.address, vectorization_mode="async")


def test_call_is_refused_in_native_mode(env_server: EnvServer) -> None:
    """call/get_attr need separate sub-env objects, which a vectorised implementation has not."""
    with RemoteVectorEnv(
        "CartPole-v1", 2, address=env_server.address, vectorization_mode="vector_entry_point"
    ) as envs:
        envs.reset(seed=0)
        with pytest.raises(InvalidCallError, match="sync"):
            envs.get_attr("gravity")
        assert envs.step(np.zeros(2, dtype=np.int64))[0].shape == (2, 4)


@pytest.mark.parametrize(("name", "expected"), [("CartPole-v1", "vector_entry_point"), ("Taxi-v4", "sync")])
def test_make_vec_picks_the_mode_gymnasium_picks(env_server: EnvServer, name: str, expected: str) -> None:
    """Without a mode, make_vec uses the env's own vectorised implementation where it has one, as gymnasium.make_vec."""
    local = gym.make_vec(name, 3)
    try:
        with make_vec(name, 3, address=env_server.address) as remote:
            assert remote.vectorization_mode == expected
            assert data_equivalence(remote.reset(seed=2), local.reset(seed=2), exact=True)
            actions = np.zeros(3, dtype=np.int64)
            assert data_equivalence(remote.step(actions), local.step(actions), exact=True)
    finally:
        local.close()


def test_remote_vector_env_keeps_sync_as_its_default(env_server: EnvServer) -> None:
    """RemoteVectorEnv's own default stays "sync", even for an env with a vectorised implementation."""
    with RemoteVectorEnv("CartPole-v1", 2, address=env_server.address) as remote:
        assert remote.vectorization_mode == "sync"


_VECTOR_ENTRYPOINT = """
import gymnasium as gym


def create_environment(enable_rendering, env_id, **kwargs):
    return gym.make("CartPole-v1")


def create_vector_environment(num_envs, enable_rendering, **kwargs):
    return gym.make_vec("CartPole-v1", num_envs, vectorization_mode="vector_entry_point")
"""


def test_entrypoint_file_offers_a_vectorised_env(tmp_path: pathlib.Path) -> None:
    """An entrypoint file's create_vector_environment serves vector sessions in vector_entry_point and auto modes."""
    entry = tmp_path / "vector_entry.py"
    entry.write_text(_VECTOR_ENTRYPOINT)
    local = gym.make_vec("CartPole-v1", 4, vectorization_mode="vector_entry_point")
    try:
        with running_server({"cart": {"entrypoint": str(entry)}}, hosting="process", grace=0.5) as server:
            for mode in ("vector_entry_point", None):
                with make_vec("cart", 4, address=server.address, vectorization_mode=mode) as remote:
                    assert remote.vectorization_mode == "vector_entry_point"
                    assert data_equivalence(remote.reset(seed=3), local.reset(seed=3), exact=True)
                    actions = np.ones(4, dtype=np.int64)
                    assert data_equivalence(remote.step(actions), local.step(actions), exact=True)
            with make_vec("cart", 2, address=server.address, vectorization_mode="sync") as remote:
                assert remote.vectorization_mode == "sync"
    finally:
        local.close()
