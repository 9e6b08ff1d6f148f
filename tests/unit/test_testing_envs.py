"""Tests for the toy environments in remote_gym.testing.envs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env, data_equivalence

from remote_gym.errors import ConfigError
from remote_gym.testing.envs import ENV_IDS, EPISODE_LENGTH, IMPORTABLE_ENV_IDS, GraphEnv

# Kwargs that switch off the crash and hang behaviours, so the API checks can run in this process.
SAFE_KWARGS: dict[str, dict[str, Any]] = {
    "Raising": {"fail_on_step": None},
    "Exiting": {"exit_action": None},
    "Aborting": {"abort_action": None},
    "Hanging": {"hang_action": None},
}
NAMES = sorted(ENV_IDS)


def _make(name: str, **kwargs: Any) -> gym.Env[Any, Any]:
    return gym.make(ENV_IDS[name], **{**SAFE_KWARGS.get(name, {}), **kwargs})


def _check_env(env: gym.Env[Any, Any]) -> None:
    with warnings.catch_warnings():
        # check_env(gymnasium.make(...)) warns that it sees wrappers; that is the point of the call.
        warnings.filterwarnings(
            "ignore", message=".*different from the unwrapped version", category=UserWarning
        )
        # DictSpaces has infinite Box bounds on purpose (the codec must carry them).
        warnings.filterwarnings(
            "ignore", message=".*Box observation space m.* is -?infinity", category=UserWarning
        )
        check_env(env)


def _rollout(name: str, seed: int, steps: int) -> list[Any]:
    env = _make(name)
    try:
        env.action_space.seed(seed)
        trajectory: list[Any] = [env.reset(seed=seed)]
        for _ in range(steps):
            result = env.step(env.action_space.sample())
            trajectory.append(result)
            if result[2] or result[3]:
                trajectory.append(env.reset())
        return trajectory
    finally:
        env.close()


def _assert_exact_dtypes(space: spaces.Space[Any], value: Any) -> None:
    """Array leaves carry exactly the dtype their space declares."""
    if isinstance(space, spaces.Dict):
        assert list(value) == list(space.spaces)
        for key, subspace in space.spaces.items():
            _assert_exact_dtypes(subspace, value[key])
    elif isinstance(space, spaces.Tuple):
        for subspace, item in zip(space.spaces, value, strict=True):
            _assert_exact_dtypes(subspace, item)
    elif isinstance(space, (spaces.Box, spaces.MultiBinary, spaces.MultiDiscrete)):
        assert isinstance(value, np.ndarray)
        assert value.dtype == space.dtype


@pytest.mark.parametrize("name", NAMES)
def test_check_env_unwrapped(name: str) -> None:
    """The bare environment passes Gymnasium's env checker."""
    env = _make(name)
    try:
        _check_env(env.unwrapped)
    finally:
        env.close()


@pytest.mark.parametrize("name", NAMES)
def test_check_env_made(name: str) -> None:
    """The environment as returned by gymnasium.make passes Gymnasium's env checker."""
    env = _make(name)
    try:
        _check_env(env)
    finally:
        env.close()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trajectory(name: str) -> None:
    """Two rollouts with the same seed and actions are exactly equal, across an episode boundary."""
    steps = EPISODE_LENGTH + 3
    assert data_equivalence(
        _rollout(name, seed=7, steps=steps), _rollout(name, seed=7, steps=steps), exact=True
    )


@pytest.mark.parametrize("name", NAMES)
def test_different_seed_different_trajectory(name: str) -> None:
    """Rollouts with different seeds differ."""
    assert not data_equivalence(_rollout(name, seed=7, steps=3), _rollout(name, seed=8, steps=3), exact=True)


@pytest.mark.parametrize("name", NAMES)
def test_observations_are_in_space_with_exact_dtypes(name: str) -> None:
    """Every observation of an episode lies in the observation space with the declared dtypes."""
    env = _make(name)
    try:
        env.action_space.seed(0)
        observation, _ = env.reset(seed=0)
        done = False
        while not done:
            assert observation in env.observation_space
            _assert_exact_dtypes(env.observation_space, observation)
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
    finally:
        env.close()


def test_dict_space_keys_keep_their_unsorted_order() -> None:
    """DictSpaces keys are not alphabetical, in the space and in every observation."""
    env = _make("DictSpaces")
    try:
        keys = ["z_pos", "a_vel", "m_flags", "d_mode", "b_word"]
        assert list(env.observation_space.spaces) == keys
        assert list(env.reset(seed=0)[0]) == keys
        assert list(env.action_space.spaces) == ["throttle", "gear"]
    finally:
        env.close()


def test_dict_space_info_covers_many_value_types() -> None:
    """DictSpaces infos hold Python scalars, None, numpy scalars and arrays, list, tuple and nested dict."""
    env = _make("DictSpaces")
    try:
        env.reset(seed=0)
        info = env.step(env.action_space.sample())[4]
    finally:
        env.close()
    expected = {
        int,
        float,
        bool,
        str,
        type(None),
        np.float32,
        np.int64,
        np.bool_,
        np.ndarray,
        list,
        tuple,
        dict,
    }
    assert expected <= {type(value) for value in info.values()}
    assert isinstance(info["nested"]["inner"]["ids"], np.ndarray)


def test_termination_after_episode_length() -> None:
    """DictSpaces terminates on step 20 without truncation."""
    env = _make("DictSpaces")
    try:
        env.reset(seed=0)
        results = [env.step(env.action_space.sample())[2:4] for _ in range(EPISODE_LENGTH)]
    finally:
        env.close()
    assert results[-1] == (True, False)
    assert not any(terminated or truncated for terminated, truncated in results[:-1])


def test_truncation_by_registered_time_limit() -> None:
    """TupleSpaces is truncated by its registered max_episode_steps (10) before it terminates."""
    env = _make("TupleSpaces")
    try:
        env.reset(seed=0)
        results = [env.step(env.action_space.sample())[2:4] for _ in range(10)]
    finally:
        env.close()
    assert results[-1] == (False, True)


def test_raising_env_raises_on_the_configured_step_only() -> None:
    """RaisingEnv raises on step 3 with action 1, and keeps working afterwards."""
    env = gym.make(ENV_IDS["Raising"])
    try:
        env.reset(seed=0)
        env.step(1)
        env.step(1)
        with pytest.raises(ValueError, match="boom at step 3"):
            env.step(1)
        assert env.step(1)[0] in env.observation_space
    finally:
        env.close()


def test_raising_env_ignores_other_actions_on_the_failing_step() -> None:
    """RaisingEnv does not raise when the failing step takes action 0."""
    env = gym.make(ENV_IDS["Raising"], fail_on_step=1)
    try:
        env.reset(seed=0)
        env.step(0)
        env.reset(seed=0)
        with pytest.raises(ValueError, match="boom at step 1"):
            env.step(1)
    finally:
        env.close()


def test_hanging_env_sleeps_on_action_one() -> None:
    """HangingEnv takes at least hang_s seconds for action 1."""
    env = gym.make(ENV_IDS["Hanging"], hang_s=0.05)
    try:
        env.reset(seed=0)
        start = time.perf_counter()
        env.step(1)
        assert time.perf_counter() - start >= 0.05
    finally:
        env.close()


def test_frame_env_renders_small_rgb_frames() -> None:
    """FrameEnv renders 64x96x3 uint8 pictures and observes 210x160x3 uint8 frames."""
    env = gym.make(ENV_IDS["Frame"], render_mode="rgb_array")
    try:
        observation, _ = env.reset(seed=0)
        picture = env.render()
    finally:
        env.close()
    assert observation.shape == (210, 160, 3)
    assert observation.dtype == np.uint8
    assert isinstance(picture, np.ndarray)
    assert picture.shape == (64, 96, 3)
    assert picture.dtype == np.uint8


def test_unsupported_render_mode_raises_config_error() -> None:
    """Asking for a render mode the env does not declare raises ConfigError."""
    with pytest.raises(ConfigError, match="cannot render"):
        GraphEnv(render_mode="rgb_array")


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.integration
def test_make_by_module_path_in_a_fresh_process() -> None:
    """A process that never imported remote_gym can make every env through its module:id form."""
    code = (
        "import gymnasium\n"
        f"for env_id in {list(IMPORTABLE_ENV_IDS.values())!r}:\n"
        "    gymnasium.make(env_id).close()\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.integration
def test_exiting_env_ends_the_process_with_code_3() -> None:
    """ExitingEnv's action 1 ends its process at once with exit code 3."""
    result = _run_python(
        "import gymnasium\n"
        f"env = gymnasium.make({IMPORTABLE_ENV_IDS['Exiting']!r})\n"
        "env.reset(seed=0)\n"
        "env.step(1)\n"
        "raise SystemExit(0)\n"
    )
    assert result.returncode == 3, result.stderr


@pytest.mark.integration
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_aborting_env_kills_the_process_with_sigabrt() -> None:
    """AbortingEnv's action 1 kills its process with SIGABRT."""
    result = _run_python(
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file\n"
        "import gymnasium\n"
        f"env = gymnasium.make({IMPORTABLE_ENV_IDS['Aborting']!r})\n"
        "env.reset(seed=0)\n"
        "env.step(1)\n"
    )
    assert result.returncode == -signal.SIGABRT
