"""A vector session stepped by the environment's own vectorised implementation (gymnasium.make_vec)."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from remote_gym.codec.requests import server_render_mode
from remote_gym.errors import InvalidCallError
from remote_gym.server.handlers.spec import CreateSpec, load_entrypoint
from remote_gym.vector.modes import autoreset_mode_of

VECTOR_ENTRYPOINT = "create_vector_environment"
"""Name of the optional function of an entrypoint file that returns a vectorised env."""


def resolve_vectorization_mode(spec: CreateSpec) -> str:
    """``spec.vectorization_mode``, with ``"auto"`` decided as ``gymnasium.make_vec`` decides a ``None`` mode.

    ``"auto"`` is ``"vector_entry_point"`` when the env has its own vectorised implementation (a
    Gymnasium id registered with a ``vector_entry_point``, or an entrypoint file that defines
    ``create_vector_environment``) and sub-envs need not be recreated on failure; else ``"sync"``.
    """
    if spec.vectorization_mode != "auto":
        return spec.vectorization_mode
    if spec.restart_on_failure:
        return "sync"
    if spec.gym_id is not None:
        module, _, env_id = spec.gym_id.rpartition(":")  # "module:id", as gymnasium.make accepts it
        try:
            if module:
                importlib.import_module(module)  # the operator's registry named it, as for gym.make
            has_own = gym.spec(env_id).vector_entry_point is not None
        except (gym.error.Error, ImportError) as exc:
            raise InvalidCallError(f"{spec.env_name}: {exc}") from exc
    else:
        assert spec.entrypoint is not None
        has_own = callable(getattr(load_entrypoint(spec.entrypoint), VECTOR_ENTRYPOINT, None))
    return "vector_entry_point" if has_own else "sync"


def _create_vector_env(spec: CreateSpec) -> gym.vector.VectorEnv[Any, Any, Any]:
    """``gymnasium.make_vec(..., "vector_entry_point")``, or the entrypoint file's ``create_vector_environment``."""
    render_mode = server_render_mode(spec.render_mode)
    kwargs: dict[str, Any] = dict(spec.kwargs)
    if spec.gym_id is None:
        assert spec.entrypoint is not None
        factory = getattr(load_entrypoint(spec.entrypoint), VECTOR_ENTRYPOINT, None)
        if not callable(factory):
            raise InvalidCallError(
                f"vectorization_mode='vector_entry_point': the entrypoint file of {spec.env_name!r} "
                f"defines no {VECTOR_ENTRYPOINT}(num_envs, enable_rendering, **kwargs)"
            )
        envs = factory(num_envs=spec.num_envs, enable_rendering=spec.render_mode is not None, **kwargs)
        if not isinstance(envs, gym.vector.VectorEnv):
            raise TypeError(
                f"{VECTOR_ENTRYPOINT} in {spec.entrypoint} returned {type(envs).__name__}, "
                "not a gymnasium.vector.VectorEnv"
            )
        return envs
    if render_mode:
        kwargs["render_mode"] = render_mode
    try:
        return gym.make_vec(
            spec.gym_id, num_envs=spec.num_envs, vectorization_mode="vector_entry_point", **kwargs
        )
    except gym.error.Error as exc:
        raise InvalidCallError(f"{spec.env_name}: {exc}") from exc


class NativeVectorCore:
    """The env's own vectorised implementation behind the vector-core interface.

    ``gymnasium.make_vec(id, n, vectorization_mode="vector_entry_point")`` for a Gymnasium id, or
    ``create_vector_environment(num_envs, enable_rendering, **kwargs)`` of an entrypoint file.

    DESIGN.md rule 3: an env with a numpy-vectorised implementation (Gymnasium's CartPole) steps
    many sub-envs in one call instead of a Python loop. Its results are those of the same
    ``make_vec`` call run locally -- not those of a ``SyncVectorEnv`` (the implementation draws its
    random numbers differently), which is why the client chooses this mode explicitly (or with
    ``"auto"``, as ``gymnasium.make_vec`` does when given no mode).
    """

    def __init__(self, spec: CreateSpec) -> None:
        if spec.restart_on_failure:
            raise InvalidCallError("on_env_failure='restart' needs vectorization_mode='sync'")
        envs = _create_vector_env(spec)
        mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self.autoreset_mode = autoreset_mode_of(mode)
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

    def env_restarts(self) -> int:
        """Always 0: the env's own vectorised implementation has no restart mode."""
        return 0
