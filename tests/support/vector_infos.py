"""Vectorised infos as Gymnasium builds them, from a toy env's own infos, for the vector and codec tests."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


class _Collector(gym.vector.VectorEnv[Any, Any, Any]):
    """Just enough of a VectorEnv to run Gymnasium's own ``_add_info``."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


def vector_info(env_infos: list[dict[str, Any]]) -> dict[str, Any]:
    """The vectorised info Gymnasium's ``_add_info`` builds from each sub-env's info, in order."""
    collector = _Collector(len(env_infos))
    infos: dict[str, Any] = {}
    for i, info in enumerate(env_infos):
        infos = collector._add_info(infos, info, i)
    return infos


def toy_infos(env: gym.Env[Any, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` step infos of ``env``: some with final_obs/final_info, some without a key the others have."""
    infos = []
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for i in range(count):
        _, _, terminated, _, info = env.step(env.action_space.sample())
        if i % 3 == 0:
            info = {**info, "final_obs": env.observation_space.sample(), "final_info": {"k": i}}
        if i % 2:
            info = {key: value for key, value in info.items() if key != "phase"}
        infos.append(info)
        if terminated:
            env.reset()
    return infos
