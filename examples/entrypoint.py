"""An entrypoint file: the server calls create_environment() once for every client session."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def create_environment(
    enable_rendering: bool, env_id: int, env: str = "Acrobot-v1", max_episode_steps: int = 500
) -> gym.Env[Any, Any]:
    """Build the environment one client session uses.

    The server operator chooses this file and its keyword arguments; a client may only override the
    keyword arguments the operator allowed (see start_remote_environment.py).

    Args:
        enable_rendering: True when the client asked for a render mode; frames are then rendered on
            this machine and sent to the client when it calls ``render()``.
        env_id: Index of the environment within its session (0 for a single env).
        env: Gymnasium id to create.
        max_episode_steps: Time limit of an episode.

    Returns:
        The environment; any ``gymnasium.Env`` works, including wrapped and custom ones.
    """
    render_mode = "rgb_array" if enable_rendering else None
    return gym.make(env, render_mode=render_mode, max_episode_steps=max_episode_steps)


def create_vector_environment(
    num_envs: int, enable_rendering: bool, env: str = "Acrobot-v1", max_episode_steps: int = 500
) -> gym.vector.VectorEnv[Any, Any, Any]:
    """Optional: a vectorised env for vector sessions (``vectorization_mode="vector_entry_point"`` or ``"auto"``).

    Without this function, vector sessions step ``create_environment()`` envs in a ``SyncVectorEnv``.

    Args:
        num_envs: Number of sub-environments.
        enable_rendering: As for :func:`create_environment`.
        env: Gymnasium id to create.
        max_episode_steps: Time limit of an episode.

    Returns:
        The vector env; here Gymnasium's own choice, as ``gymnasium.make_vec`` makes it.
    """
    render_mode = "rgb_array" if enable_rendering else None
    return gym.make_vec(env, num_envs, render_mode=render_mode, max_episode_steps=max_episode_steps)
