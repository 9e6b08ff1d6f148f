"""What a session's environment is (CreateSpec) and how to create it: a Gymnasium id or an entrypoint file."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from remote_gym.codec.requests import server_render_mode
from remote_gym.errors import EnvKindError


@dataclass(frozen=True, kw_only=True)
class CreateSpec:
    """What a worker needs to create an environment; built by the server from its registry only."""

    env_name: str
    gym_id: str | None = None
    entrypoint: str | None = None
    pettingzoo: str | None = None
    """A PettingZoo module, or ``"module:callable"`` (see ``EnvEntry.pettingzoo``)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    render_mode: str | None = None
    env_index: int = 0
    compress: bool = True
    session_id: str = ""
    num_envs: int = 0
    """Number of sub-environments of a vector session; 0 for a single environment."""
    autoreset_mode: str = "NEXT_STEP"
    """Vector sessions: name of the ``gymnasium.vector.AutoresetMode`` member."""
    restart_on_failure: bool = False
    """Vector sessions: recreate a failing sub-env (its episode is truncated) instead of failing."""
    workers: int = 1
    """Vector sessions: processes that share the sub-envs (the worker and ``workers - 1`` helpers)."""
    vectorization_mode: str = "sync"
    """Vector sessions: ``"sync"`` (SyncVectorEnv of single envs) or ``"vector_entry_point"``."""
    per_env_infos: bool = False
    """Vector sessions in sync mode: answer with the sub-envs' own infos, not a vectorised info."""
    multi_agent: str = ""
    """Multi-agent sessions: ``"parallel"`` or ``"aec"``, the PettingZoo API served; empty otherwise."""
    process_start: str = "fork"
    """How this worker starts a vector session's helper processes: ``"fork"`` or ``"spawn"``."""

    def to_json(self) -> dict[str, Any]:
        """Plain-data form, for the worker's start message."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreateSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


def create_env(spec: CreateSpec) -> gym.Env[Any, Any]:
    """Create the environment ``spec`` describes (a Gymnasium id or an operator's entrypoint file)."""
    server_mode = server_render_mode(spec.render_mode)
    if spec.gym_id is not None:
        if server_mode is not None:
            return gym.make(spec.gym_id, render_mode=server_mode, **spec.kwargs)
        return gym.make(spec.gym_id, **spec.kwargs)
    if spec.entrypoint is None:
        raise EnvKindError(f"{spec.env_name!r} is a PettingZoo env: open it with remote_gym.pettingzoo")
    env = create_from_entrypoint(spec)
    if hasattr(env, "possible_agents"):
        raise EnvKindError(
            f"{spec.env_name!r} is a multi-agent (PettingZoo) env: open it with remote_gym.pettingzoo"
        )
    if not isinstance(env, gym.Env):
        raise TypeError(
            f"create_environment in {spec.entrypoint} returned {type(env).__name__}, not a gymnasium.Env"
        )
    return env


def create_from_entrypoint(spec: CreateSpec) -> Any:
    """Call the ``create_environment`` of the operator's entrypoint file; whatever it returns."""
    assert spec.entrypoint is not None
    module = load_entrypoint(spec.entrypoint)
    return module.create_environment(
        enable_rendering=spec.render_mode is not None, env_id=spec.env_index, **spec.kwargs
    )


def load_entrypoint(path: str) -> Any:
    """Import an operator's entrypoint file as a module (its directory joins sys.path, as in 0.7.x)."""
    file = pathlib.Path(path).resolve()
    name = f"remote_gym_entrypoint_{abs(hash(str(file)))}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load entrypoint file {file}")
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # a later load (a warm worker's preload failed) raises the same error again
        raise
    if not callable(getattr(module, "create_environment", None)):
        raise AttributeError(
            f"entrypoint file {file} defines no create_environment(enable_rendering, env_id, **kwargs)"
        )
    return module
