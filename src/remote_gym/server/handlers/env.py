"""Serve one session's requests against one live gymnasium environment (in a worker or in-process)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import DecodeError, InvalidActionError, InvalidCallError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.base import Method, RequestHandler, check_public_name
from remote_gym.server.handlers.describe import describe_common, encode_optional, sample_response
from remote_gym.server.handlers.spec import CreateSpec

logger = logging.getLogger(__name__)


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
        metadata = describe_common(make, env, self.spec)
        make.observation_space.CopyFrom(encode_space(env.observation_space))
        make.action_space.CopyFrom(encode_space(env.action_space))
        encode_value(metadata, make.metadata, path="metadata")
        encode_optional(getattr(env, "reward_range", None), make.reward_range, "reward_range")
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
