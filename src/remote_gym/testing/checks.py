"""check_remote_env(): Gymnasium's own checks, run on a remote env and against its local twin."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.env_match import check_environments_match


def _warnings_of(env: gym.Env[Any, Any], skip_render_check: bool) -> set[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=skip_render_check)
    return {str(w.message) for w in caught}


def check_remote_env(
    remote: gym.Env[Any, Any],
    make_local: Callable[[], gym.Env[Any, Any]],
    *,
    num_steps: int = 200,
    seed: int = 0,
    skip_render_check: bool = False,
) -> None:
    """Assert that ``remote`` behaves as the env ``make_local()`` builds.

    Steps ``remote`` and a fresh local env in lock-step with
    ``gymnasium.utils.env_match.check_environments_match`` (observations, rewards, flags, infos by
    equivalence, and rendered frames when both render ``rgb_array``); then runs
    ``gymnasium.utils.env_checker.check_env`` on ``remote`` and on a local env, and fails on any
    warning the remote env gives that the local one does not. Give a fresh ``remote``: the
    lock-step comparison expects the history of a freshly made env.

    Args:
        remote: A remote environment (e.g. a ``RemoteEnvironment``).
        make_local: Builds the local twin (called twice: for the checker and for the lock-step run).
        num_steps: Steps of the lock-step comparison.
        seed: Seed of the lock-step comparison.
        skip_render_check: Let ``check_env`` skip its render checks, which make the env in every
            declared render mode, "human" included (needs a display for e.g. MuJoCo). Frames of
            the lock-step comparison are still compared.

    Raises:
        AssertionError: The remote env differs from the local one.
    """
    # The lock-step comparison comes first, while ``remote`` has the history of a fresh local env:
    # some envs keep state that ``reset(seed=...)`` does not restore (flappy-bird-gymnasium's wing
    # animation cycles on from construction), so after check_env their frames would differ.
    local = make_local()
    try:
        check_environments_match(local, remote, num_steps=num_steps, seed=seed, info_comparison="equivalence")
    finally:
        local.close()
    local = make_local()
    try:
        local_warnings = _warnings_of(local.unwrapped, skip_render_check)
    finally:
        local.close()
    extra = _warnings_of(remote, skip_render_check) - local_warnings
    assert not extra, f"the remote env gives warnings the local env does not: {sorted(extra)}"
