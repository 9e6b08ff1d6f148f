"""Serve one session's requests against a live gymnasium environment (in a worker or in-process)."""

from __future__ import annotations

import importlib.util
import logging
import pathlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.spaces import Space

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.codec.remote_space import subspace_at
from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import (
    CodecError,
    DecodeError,
    InvalidActionError,
    InvalidCallError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.dispatch import Method, RequestHandler, check_public_name

logger = logging.getLogger(__name__)

# Client render modes that need frames from the server; "human" frames are shown on the client.
_FRAME_MODES = {"rgb_array": "rgb_array", "human": "rgb_array"}


@dataclass(frozen=True, kw_only=True)
class CreateSpec:
    """What a worker needs to create an environment; built by the server from its registry only."""

    env_name: str
    gym_id: str | None = None
    entrypoint: str | None = None
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

    def to_json(self) -> dict[str, Any]:
        """Plain-data form, for the worker's start message."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreateSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


def create_env(spec: CreateSpec) -> gym.Env[Any, Any]:
    """Create the environment ``spec`` describes (a Gymnasium id or an operator's entrypoint file)."""
    server_mode = _FRAME_MODES.get(spec.render_mode, spec.render_mode) if spec.render_mode else None
    if spec.gym_id is not None:
        if server_mode is not None:
            return gym.make(spec.gym_id, render_mode=server_mode, **spec.kwargs)
        return gym.make(spec.gym_id, **spec.kwargs)
    assert spec.entrypoint is not None
    module = load_entrypoint(spec.entrypoint)
    env = module.create_environment(
        enable_rendering=spec.render_mode is not None, env_id=spec.env_index, **spec.kwargs
    )
    if not isinstance(env, gym.Env):
        raise TypeError(
            f"create_environment in {spec.entrypoint} returned {type(env).__name__}, not a gymnasium.Env"
        )
    return env


def sample_response(
    request: pb.Request, observation_space: Space[Any], action_space: Space[Any], compress: bool
) -> pb.Response:
    """Answer a SampleRequest: a sample of the sub-space it names (a custom space the client cannot sample)."""
    sample = request.sample
    spaces = {"observation": observation_space, "action": action_space}
    if sample.space not in spaces:
        raise InvalidCallError(f"SampleRequest.space must be 'observation' or 'action', got {sample.space!r}")
    space = subspace_at(spaces[sample.space], list(sample.path))
    resp = pb.Response()
    encode_value(space.sample(), resp.sample.sample, compress=compress, path=f"{sample.space} sample")
    return resp


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
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, "create_environment", None)):
        raise AttributeError(
            f"entrypoint file {file} defines no create_environment(enable_rendering, env_id, **kwargs)"
        )
    return module


def _encode_optional(value: Any, msg: pb.Value, what: str) -> None:
    try:
        encode_value(value, msg, path=what)
    except CodecError as exc:
        logger.warning("%s cannot be sent and is left out: %s", what, exc)
        msg.none = True


def _spec_dict(env: gym.Env[Any, Any]) -> dict[str, Any] | None:
    spec = env.spec
    if spec is None:
        return None
    return {
        "id": spec.id,
        "reward_threshold": spec.reward_threshold,
        "nondeterministic": spec.nondeterministic,
        "max_episode_steps": spec.max_episode_steps,
        "order_enforce": spec.order_enforce,
        "disable_env_checker": spec.disable_env_checker,
    }


def _metadata(env: gym.Env[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(env.metadata).items():
        try:
            encode_value(value, path=f"metadata[{key!r}]")
        except CodecError:
            logger.warning(
                "metadata[%r] of type %s cannot be sent and is left out", key, type(value).__name__
            )
            continue
        out[key] = value
    return out


def _contains(space: gym.Space[Any], value: Any) -> bool:
    """``space.contains`` that answers False, instead of raising, for values of a foreign shape or type."""
    try:
        return bool(space.contains(value))
    except Exception:
        return False


def _membership_test(space: gym.Space[Any]) -> Callable[[Any], bool]:
    """A test equal to :func:`_contains` for ``space``, quicker for the common Discrete action."""
    if type(space) is not gym.spaces.Discrete or space.dtype != np.int64:
        return partial(_contains, space)
    low = int(space.start)
    high = low + int(space.n)

    def contains(value: Any) -> bool:
        # What the wire decodes a Discrete action to: an int, or an int64 scalar. Anything else
        # (bool, other dtypes, arrays) goes through the space's own test.
        if type(value) is int or type(value) is np.int64:
            return bool(low <= value < high)
        return _contains(space, value)

    return contains


class EnvHandler(RequestHandler):
    """Answer session requests with one environment; never raises out of :meth:`handle`."""

    def __init__(self, env: gym.Env[Any, Any], spec: CreateSpec) -> None:
        super().__init__()
        self.env = env
        self.spec = spec
        self.session_id = spec.session_id
        self._compress = spec.compress
        self._action_space = env.action_space
        self._is_action = _membership_test(env.action_space)

    def describe(self) -> pb.Response:
        """The ``MakeResponse`` describing the environment."""
        env = self.env
        resp = pb.Response()
        make = resp.make
        make.protocol_version = PROTOCOL_VERSION
        make.server_version = __version__
        make.session_id = self.spec.session_id
        make.env_name = self.spec.env_name
        make.env_class = type(env.unwrapped).__name__
        make.observation_space.CopyFrom(encode_space(env.observation_space))
        make.action_space.CopyFrom(encode_space(env.action_space))
        encode_value(_metadata(env), make.metadata, path="metadata")
        _encode_optional(_spec_dict(env), make.spec, "spec")
        _encode_optional(getattr(env, "reward_range", None), make.reward_range, "reward_range")
        make.render_mode = self.spec.render_mode or ""
        return resp

    def _reset(self, request: pb.Request) -> pb.Response:
        seed = decode_value(request.reset.seed) if request.reset.HasField("seed") else None
        options = decode_value(request.reset.options) if request.reset.HasField("options") else None
        if seed is not None and not isinstance(seed, int):
            raise InvalidCallError(f"seed must be an int or None, got {type(seed).__name__}")
        obs, info = self.env.reset(seed=seed, options=options)
        resp = pb.Response()
        out = resp.reset
        encode_value(obs, out.observation, path="observation")
        encode_value(info, out.info, path="info")
        return resp

    def _step(self, request: pb.Request) -> pb.Response:
        try:
            action = decode_value(request.step.action)
        except DecodeError as exc:
            raise InvalidActionError(f"the action could not be decoded: {exc}") from exc
        if not self._is_action(action):
            raise InvalidActionError(
                f"action {action!r} is not an element of the action space {self._action_space}"
            )
        obs, reward, terminated, truncated, info = self.env.step(action)
        resp = pb.Response()
        out = resp.step
        encode_value(obs, out.observation, path="observation")
        encode_value(reward, out.reward, path="reward")
        encode_value(terminated, out.terminated, path="terminated")
        encode_value(truncated, out.truncated, path="truncated")
        encode_value(info, out.info, path="info")
        return resp

    def _render(self, request: pb.Request) -> pb.Response:
        frame = self.env.render()
        resp = pb.Response()
        encode_value(frame, resp.render.frame, compress=self._compress, path="render()")
        return resp

    def _call(self, request: pb.Request) -> pb.Response:
        call = request.call
        check_public_name(call.name, "calling or reading")
        target = self.env.get_wrapper_attr(call.name)
        if call.get_attr:
            result = target
        else:
            args = decode_value(call.args) if call.HasField("args") else []
            kwargs = decode_value(call.kwargs) if call.HasField("kwargs") else {}
            result = target(*args, **kwargs) if callable(target) else target
        resp = pb.Response()
        encode_value(result, resp.call.result, compress=self._compress, path=call.name)
        return resp

    def _set_attr(self, request: pb.Request) -> pb.Response:
        name = request.set_attr.name
        check_public_name(name, "setting")
        self.env.set_wrapper_attr(name, decode_value(request.set_attr.values))
        return pb.Response(set_attr=pb.SetAttrResponse())

    def close_envs(self) -> None:
        """Close the environment."""
        self.env.close()

    def _sample(self, request: pb.Request) -> pb.Response:
        return sample_response(request, self.env.observation_space, self.env.action_space, self._compress)

    METHODS: ClassVar[dict[str, Method]] = {
        "sample": _sample,
        "reset": _reset,
        "step": _step,
        "render": _render,
        "call": _call,
        "set_attr": _set_attr,
        "close": RequestHandler.close_request,
    }
