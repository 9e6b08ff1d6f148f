"""Stable-Baselines3's VecEnv interface over a RemoteAgentVectorEnv, as SuperSuit's SB3 wrapper offers it."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from remote_gym.client.agent_vector import RemoteAgentVectorEnv
from remote_gym.errors import DependencyNotInstalledError, InvalidCallError


class SB3VecEnvMethods:
    """Every method of SB3's ``VecEnv`` over a :class:`RemoteAgentVectorEnv`, without importing SB3.

    :func:`to_sb3_vec_env` puts it in front of SB3's ``VecEnv`` class (which SB3's algorithms check
    with ``isinstance``). Steps return ``dones = terminated | truncated``, and infos as SB3 wants
    them: ``"TimeLimit.truncated"``, and ``"terminal_observation"`` where a copy ended.
    """

    def __init__(self, venv: RemoteAgentVectorEnv) -> None:
        self.venv = venv
        self.num_envs = venv.num_envs
        self.observation_space = venv.single_observation_space
        self.action_space = venv.single_action_space
        self.render_mode = None
        self.metadata = venv.metadata
        self.reset_infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._seeds: list[int | None] = [None] * self.num_envs
        self._options: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._actions: Any = None

    def reset(self) -> np.ndarray:
        """Reset every copy (seeded by the last :meth:`seed`); the observations."""
        observations, self.reset_infos = self.venv.reset_lists(
            seed=self._seeds[0], options=self._options[0] or None
        )
        self._seeds = [None] * self.num_envs
        return observations

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the next reset (copy ``c`` gets ``seed + c``)."""
        self._seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        return self._seeds

    def step_async(self, actions: np.ndarray) -> None:
        """Keep the actions for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every agent of every copy: observations, rewards, dones and infos (SB3's form)."""
        observations, rewards, terminated, truncated, infos = self.venv.step_lists(self._actions)
        dones = terminated | truncated
        for info, term, trunc in zip(infos, terminated, truncated, strict=True):
            info["TimeLimit.truncated"] = bool(trunc and not term)
            if "final_observation" in info:
                info["terminal_observation"] = info.pop("final_observation")
        return observations, rewards, dones, infos

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """:meth:`step_async` then :meth:`step_wait`."""
        self.step_async(actions)
        return self.step_wait()

    def close(self) -> None:
        """End every server's session."""
        self.venv.close()

    def _indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The vector env's attribute, once per index (the copies are alike)."""
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Not offered: the agents' envs live on servers.

        Raises:
            InvalidCallError: Always.
        """
        raise InvalidCallError("set_attr is not offered on remote multi-agent copies")

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
        """Not offered: the agents' envs live on servers.

        Raises:
            InvalidCallError: Always.
        """
        raise InvalidCallError("env_method is not offered on remote multi-agent copies")

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """False for every index: no Gymnasium wrapper is around an agent's slot."""
        return [False] * len(self._indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        """No frames: batched sessions are made without a render mode."""
        return [None] * self.num_envs


def to_sb3_vec_env(venv: RemoteAgentVectorEnv) -> Any:
    """``venv`` as a Stable-Baselines3 ``VecEnv`` (what SuperSuit's ``concat_vec_envs_v1(..., base_class="stable_baselines3")`` gives).

    Raises:
        DependencyNotInstalledError: Stable-Baselines3 is not installed (the ``train`` extra).
    """
    try:
        base = importlib.import_module("stable_baselines3.common.vec_env.base_vec_env").VecEnv
    except ImportError as exc:
        raise DependencyNotInstalledError(
            "to_sb3_vec_env needs Stable-Baselines3: pip install 'remote-gym[train]'"
        ) from exc
    adapter = type("RemoteAgentSB3VecEnv", (SB3VecEnvMethods, base), {})
    return adapter(venv)
