"""vectorization_mode="vector_entry_point": the server steps the env's own vectorised implementation."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import RemoteVectorEnv, make_vec
from remote_gym.errors import ConfigError, InvalidCallError
from remote_gym.server.server import EnvServer

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
