"""A RemoteEnvironment is indistinguishable from the local environment."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.utils.env_match import check_environments_match

from remote_gym.client.env import RemoteEnvironment
from remote_gym.errors import PermissionDeniedError, RemoteEnvError
from remote_gym.server.server import EnvServer
from tests.conftest import GYM_ENVS, LANE_PATHS, SPAWNED, TEST_ENVS, local_make

pytestmark = pytest.mark.integration

HOSTING_PATHS = (*LANE_PATHS, SPAWNED)
"""These tests run on spawned workers and the TCP lane too (see tests/conftest.py)."""

ALL_ENVS = GYM_ENVS + TEST_ENVS
RGB_ENVS = (
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "FrozenLake-v1",
    "Taxi-v4",
    "Blackjack-v1",
    "Frame",
)


def _check_env_warnings(env: gym.Env[Any, Any]) -> set[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    return {str(w.message) for w in caught}


@pytest.mark.parametrize("name", ALL_ENVS)
def test_check_env_passes(env_server: EnvServer, name: str) -> None:
    """Gymnasium's env_checker accepts the remote env, with no warning it does not give the local env."""
    local = local_make(name)
    try:
        local_warnings = _check_env_warnings(local.unwrapped)
    finally:
        local.close()
    with RemoteEnvironment(address=env_server.address, env=name) as env:
        remote_warnings = _check_env_warnings(env)
    assert remote_warnings <= local_warnings


@pytest.mark.parametrize("name", ALL_ENVS)
def test_matches_local_env(env_server: EnvServer, name: str) -> None:
    """Spaces, observations, rewards, flags and infos equal the local env's, step by step."""
    local = local_make(name)
    try:
        with RemoteEnvironment(address=env_server.address, env=name) as remote:
            check_environments_match(local, remote, num_steps=300, seed=7, info_comparison="equivalence")
    finally:
        local.close()


@pytest.mark.parametrize("name", RGB_ENVS)
def test_rendered_frames_match_local(env_server: EnvServer, name: str) -> None:
    """With render_mode="rgb_array" the frames equal the local env's frames."""
    local = local_make(name, render_mode="rgb_array")
    try:
        with RemoteEnvironment(address=env_server.address, env=name, render_mode="rgb_array") as remote:
            check_environments_match(local, remote, num_steps=15, seed=3)
            frame = remote.render()
            assert isinstance(frame, np.ndarray)
            assert frame.dtype == np.uint8
            assert frame.ndim == 3
    finally:
        local.close()


def test_exact_types_in_lock_step(env_server: EnvServer) -> None:
    """Every returned value has exactly the local type and value (data_equivalence exact) for 200 steps."""
    local = local_make("DictSpaces")
    try:
        with RemoteEnvironment(address=env_server.address, env="DictSpaces") as remote:
            local.action_space.seed(5)
            a, b = local.reset(seed=5), remote.reset(seed=5)
            assert data_equivalence(a, b, exact=True)
            for _ in range(200):
                action = local.action_space.sample()
                a_step, b_step = local.step(action), remote.step(action)
                assert data_equivalence(a_step, b_step, exact=True)
                if a_step[2] or a_step[3]:
                    assert data_equivalence(local.reset(), remote.reset(), exact=True)
    finally:
        local.close()


def test_truncation_at_time_limit_is_exact(env_server: EnvServer) -> None:
    """CartPole at its 500-step limit reports truncated=True, terminated=False, as locally."""
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        steps, terminated, truncated = 0, False, False
        # Balance with a simple controller so the pole survives to the time limit.
        obs, _ = env.reset(seed=0)
        while not (terminated or truncated):
            action = int(obs[2] + 0.5 * obs[3] > 0)
            obs, _, terminated, truncated, _ = env.step(action)
            steps += 1
        assert (steps, terminated, truncated) == (500, False, True)
        assert type(truncated) is bool


def test_spaces_metadata_and_spec(env_server: EnvServer) -> None:
    """Spaces, metadata and spec fields equal the local env's."""
    local = gym.make("CartPole-v1")
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        assert env.observation_space == local.observation_space
        assert env.action_space == local.action_space
        assert env.metadata == local.metadata
        assert env.spec is not None
        assert env.spec.id == "CartPole-v1"
        assert env.max_episode_steps == 500
        assert env.unwrapped is env
        assert "CartPole-v1" in repr(env)
        assert env.session_id in repr(env)
    local.close()


def test_seeded_np_random_mirrors_local(env_server: EnvServer) -> None:
    """reset(seed=...) seeds np_random as the local env's reset does."""
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        local = gym.make("CartPole-v1")
        env.reset(seed=42)
        local.reset(seed=42)
        fresh = np.random.default_rng(42)
        assert env.np_random.bit_generator.state == fresh.bit_generator.state
        local.close()


def test_reset_options_are_forwarded(env_server: EnvServer) -> None:
    """reset(options=...) reaches the remote env (FrozenLake ignores unknown keys; CartPole uses bounds)."""
    local = gym.make("CartPole-v1")
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        options: dict[str, Any] = {"low": -0.01, "high": 0.01}
        remote_obs, _ = env.reset(seed=1, options=options)
        local_obs, _ = local.reset(seed=1, options=options)
        assert data_equivalence(remote_obs, local_obs, exact=True)
        assert np.all(np.abs(remote_obs) <= 0.01)
    local.close()


def test_inline_hosting_matches_local(inline_server: EnvServer) -> None:
    """In-process hosting gives the same trajectory as the local env."""
    local = local_make("TupleSpaces")
    try:
        with RemoteEnvironment(address=inline_server.address, env="TupleSpaces") as remote:
            check_environments_match(local, remote, num_steps=100, seed=2)
    finally:
        local.close()


def test_call_and_wrapper_attributes_reach_the_remote_env(env_server: EnvServer) -> None:
    """call / get_wrapper_attr / set_wrapper_attr act on the remote env as they do on the local one."""
    local = gym.make("CartPole-v1")
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        assert env.get_wrapper_attr("gravity") == local.get_wrapper_attr("gravity")
        assert data_equivalence(env.call("reset", seed=3), local.reset(seed=3), exact=True)
        # Set on the unwrapped CartPole (which defines it): the next steps follow the new physics.
        assert env.set_wrapper_attr("force_mag", 30.0) is True
        assert local.set_wrapper_attr("force_mag", 30.0) is True
        assert env.get_wrapper_attr("force_mag") == 30.0
        for _ in range(3):
            remote_step, local_step = env.step(1), local.step(1)
            assert data_equivalence(remote_step, local_step, exact=True)
        # force=False leaves an attribute the env lacks uncreated, as locally.
        assert env.set_wrapper_attr("no_such_attr", 1, force=False) is False
        assert local.set_wrapper_attr("no_such_attr", 1, force=False) is False
        with pytest.raises(RemoteEnvError):
            env.get_wrapper_attr("no_such_attr")
        # An attribute of the client object itself is set there, as for any gymnasium.Env.
        env.note = 1
        assert env.set_wrapper_attr("note", 2) is True
        assert env.note == 2
        with pytest.raises(RemoteEnvError):
            env.call("note")  # the remote env never got it
        # Any other name is set on the remote env (force=True: on its outermost wrapper if new).
        assert env.set_wrapper_attr("label", "x") is True
        assert env.call("label") == "x"
        with pytest.raises(PermissionDeniedError):
            env.set_wrapper_attr("_secret", 1)
        with pytest.raises(PermissionDeniedError):
            env.call("_secret")
        env.step(0)  # the session is still usable after the refusals
    local.close()
