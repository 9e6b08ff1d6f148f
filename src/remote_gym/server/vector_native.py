"""A vector session stepped by the environment's own vectorised implementation (gymnasium.make_vec)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from remote_gym.errors import InvalidCallError
from remote_gym.server.handler import CreateSpec


class NativeVectorCore:
    """``gymnasium.make_vec(id, n, vectorization_mode="vector_entry_point")`` behind the vector-core interface.

    DESIGN.md rule 3: an env with a numpy-vectorised implementation (Gymnasium's CartPole) steps
    many sub-envs in one call instead of a Python loop. Its results are those of the same
    ``make_vec`` call run locally -- not those of a ``SyncVectorEnv`` (the implementation draws its
    random numbers differently), which is why the client chooses this mode explicitly.
    """

    def __init__(self, spec: CreateSpec) -> None:
        if spec.gym_id is None:
            raise InvalidCallError(
                f"vectorization_mode='vector_entry_point' needs a registered Gymnasium id; "
                f"{spec.env_name!r} is an entrypoint file"
            )
        if spec.restart_on_failure:
            raise InvalidCallError("on_env_failure='restart' needs vectorization_mode='sync'")
        render_mode = "rgb_array" if spec.render_mode in ("rgb_array", "human") else spec.render_mode
        kwargs: dict[str, Any] = dict(spec.kwargs)
        if render_mode:
            kwargs["render_mode"] = render_mode
        try:
            envs = gym.make_vec(
                spec.gym_id, num_envs=spec.num_envs, vectorization_mode="vector_entry_point", **kwargs
            )
        except gym.error.Error as exc:
            raise InvalidCallError(f"{spec.env_name}: {exc}") from exc
        mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self.autoreset_mode = AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode
        if self.autoreset_mode.name != spec.autoreset_mode:
            envs.close()
            raise InvalidCallError(
                f"{spec.env_name}'s vectorised implementation only offers autoreset_mode "
                f"{self.autoreset_mode.name}, not {spec.autoreset_mode}; use vectorization_mode='sync'"
            )
        self.envs = envs
        self.num_envs = envs.num_envs
        self.single_observation_space = envs.single_observation_space
        self.single_action_space = envs.single_action_space
        self.action_space = envs.action_space

    @property
    def first_env(self) -> Any:
        """The vector env itself: its metadata and spec describe the session."""
        return self.envs

    def reset(self, seed: Any, options: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
        """The implementation's reset."""
        return self.envs.reset(seed=seed, options=options)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """The implementation's step."""
        return self.envs.step(actions)

    def render(self) -> tuple[Any, ...]:
        """The implementation's frames, as a tuple."""
        frames = self.envs.render()
        return tuple(frames) if frames is not None else ()

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any], get_attr: bool) -> tuple[Any, ...]:
        """Not available: a vectorised implementation has no separate sub-env objects."""
        raise InvalidCallError("call/get_attr need vectorization_mode='sync' (one env object per sub-env)")

    def set_attr(self, name: str, values: list[Any]) -> None:
        """Not available: a vectorised implementation has no separate sub-env objects."""
        raise InvalidCallError("set_attr needs vectorization_mode='sync' (one env object per sub-env)")

    def close(self) -> None:
        """Close the vector env."""
        self.envs.close()
