"""Serve one vector session's requests with Gymnasium's SyncVectorEnv over its sub-environments."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import decode_value, encode_value
from remote_gym.codec.vector import (
    RESTART_REASON_KEY,
    RESTARTED_KEY,
    encode_vector_info,
    tag_sub_env_error,
)
from remote_gym.errors import (
    InvalidActionError,
    InvalidCallError,
    PermissionDeniedError,
    RemoteEnvError,
    RemoteGymError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handler import (
    CreateSpec,
    EnvHandler,
    _encode_optional,
    _metadata,
    _spec_dict,
    create_env,
)
from remote_gym.transport.status import error_to_proto

logger = logging.getLogger(__name__)



class SubEnvError(Exception):
    """A sub-environment raised; carries its index (on this server) and the original exception."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.index = index
        self.cause = cause


class _IndexedEnv(gym.Wrapper[Any, Any, Any, Any]):
    """Tags a sub-env's exceptions with its index, or (restart mode) recreates the env instead.

    Attribute reads and writes go straight to the wrapped env, so the wrapper is invisible to
    ``get_attr``/``set_attr``/``call``.
    """

    def __init__(self, factory: Callable[[], gym.Env[Any, Any]], index: int, restart: bool) -> None:
        super().__init__(factory())
        self._factory = factory
        self._index = index
        self._restart = restart
        self._last_obs: Any = None

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        try:
            result = self.env.step(action)
        except Exception as exc:
            if not self._restart:
                raise SubEnvError(self._index, exc) from exc
            self._recreate(exc)
            # The episode ends here: truncated, with the last good observation as its final one. Every
            # autoreset mode resets this env before its next step (DISABLED: the user must).
            return self._last_obs, 0.0, False, True, _restart_info(exc)
        self._last_obs = result[0]
        return result

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        try:
            obs, info = self.env.reset(seed=seed, options=options)
        except Exception as exc:
            if not self._restart:
                raise SubEnvError(self._index, exc) from exc
            self._recreate(exc)
            try:
                obs, info = self.env.reset(seed=seed, options=options)
            except Exception as again:
                raise SubEnvError(self._index, again) from again
            info = {**info, **_restart_info(exc)}
        self._last_obs = obs
        return obs, info

    def render(self) -> Any:
        try:
            return self.env.render()
        except Exception as exc:
            raise SubEnvError(self._index, exc) from exc

    def _recreate(self, cause: BaseException) -> None:
        logger.info("sub-env %d raised %s: %s; recreating it", self._index, type(cause).__name__, cause)
        with contextlib.suppress(Exception):
            self.env.close()
        try:
            self.env = self._factory()
        except Exception as exc:
            raise SubEnvError(self._index, exc) from exc

    def get_wrapper_attr(self, name: str) -> Any:
        return self.env.get_wrapper_attr(name)

    def has_wrapper_attr(self, name: str) -> bool:
        return self.env.has_wrapper_attr(name)

    def set_wrapper_attr(self, name: str, value: Any, *, force: bool = True) -> bool:
        return self.env.set_wrapper_attr(name, value, force=force)


def _restart_info(cause: BaseException) -> dict[str, Any]:
    return {RESTARTED_KEY: True, RESTART_REASON_KEY: f"{type(cause).__name__}: {cause}"}


def autoreset_mode_of(name: str) -> AutoresetMode:
    """The AutoresetMode whose enum name is ``name`` (``"NEXT_STEP"``, ``"SAME_STEP"``, ``"DISABLED"``)."""
    return AutoresetMode[name]


def create_handler(spec: CreateSpec) -> EnvHandler | VectorEnvHandler:
    """The handler for ``spec``: a vector handler when it asks for sub-environments, else a single env's."""
    if spec.num_envs > 0:
        return VectorEnvHandler(spec)
    return EnvHandler(create_env(spec), spec)


class VectorEnvHandler:
    """Answer a vector session's requests; never raises out of :meth:`handle`.

    Sub-env ``i`` is created with ``env_index = spec.env_index + i``. Results are exactly those of
    ``gymnasium.vector.SyncVectorEnv`` (it does the stepping), encoded as one message per request.
    """

    def __init__(self, spec: CreateSpec) -> None:
        self.spec = spec
        self._compress = spec.compress
        self._closed = False
        self.autoreset_mode = autoreset_mode_of(spec.autoreset_mode)
        env_fns = [self._env_fn(i) for i in range(spec.num_envs)]
        # copy=False: results are encoded at once, so Gymnasium's defensive deepcopy is not needed.
        self.envs = SyncVectorEnv(env_fns, copy=False, autoreset_mode=self.autoreset_mode)
        self._subs: list[_IndexedEnv] = self.envs.envs  # type: ignore[assignment]
        self._batch_action_space = self.envs.action_space

    def _env_fn(self, index: int) -> Callable[[], gym.Env[Any, Any]]:
        sub_spec = dataclasses.replace(self.spec, env_index=self.spec.env_index + index, num_envs=0)

        def make() -> gym.Env[Any, Any]:
            return _IndexedEnv(lambda: create_env(sub_spec), index, self.spec.restart_on_failure)

        return make

    def describe(self) -> pb.Response:
        """The ``MakeResponse``: single-env spaces, ``num_envs``, metadata with ``autoreset_mode``."""
        first = self._subs[0]
        resp = pb.Response()
        make = resp.make
        make.protocol_version = PROTOCOL_VERSION
        make.server_version = __version__
        make.session_id = self.spec.session_id
        make.env_name = self.spec.env_name
        make.env_class = type(first.unwrapped).__name__
        make.num_envs = self.envs.num_envs
        make.observation_space.CopyFrom(encode_space(self.envs.single_observation_space))
        make.action_space.CopyFrom(encode_space(self.envs.single_action_space))
        metadata = _metadata(first)
        metadata["autoreset_mode"] = self.autoreset_mode.name
        encode_value(metadata, make.metadata, path="metadata")
        _encode_optional(_spec_dict(first), make.spec, "spec")
        make.reward_range.none = True
        make.render_mode = self.spec.render_mode or ""
        return resp

    def handle(self, request: pb.Request) -> pb.Response:
        """Execute one request and return its response (an ``Error`` response on failure)."""
        kind = request.WhichOneof("kind")
        try:
            method = self._METHODS.get(kind or "")
            if method is None:
                raise InvalidCallError(f"request {kind!r} is not valid during a session")
            return method(self, request)
        except SubEnvError as exc:
            return pb.Response(error=error_to_proto(_remote_env_error(exc)))
        except gym.error.ResetNeeded as exc:
            return pb.Response(error=error_to_proto(InvalidCallError(str(exc))))
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            if not isinstance(exc, RemoteGymError):
                logger.info("session %s: %s: %s", self.spec.session_id, type(exc).__name__, exc)
            return pb.Response(error=error_to_proto(exc))

    def _reset(self, request: pb.Request) -> pb.Response:
        seed = decode_value(request.reset.seed) if request.reset.HasField("seed") else None
        options = decode_value(request.reset.options) if request.reset.HasField("options") else None
        if not (seed is None or isinstance(seed, int) or _is_seed_list(seed)):
            raise InvalidCallError(
                f"seed must be an int, a list of ints/None, or None; got {type(seed).__name__}"
            )
        if options is not None and not isinstance(options, dict):
            raise InvalidCallError(f"options must be a dict or None, got {type(options).__name__}")
        obs, infos = self.envs.reset(seed=seed, options=options)
        resp = pb.Response()
        out = resp.reset
        encode_value(obs, out.observation, compress=self._compress, path="observation")
        encode_vector_info(infos, out.info, compress=self._compress)
        return resp

    def _step(self, request: pb.Request) -> pb.Response:
        actions = decode_value(request.step.action)
        if not self._batch_action_space.contains(actions):
            raise InvalidActionError(f"actions {actions!r} are not an element of {self._batch_action_space}")
        if self.autoreset_mode is AutoresetMode.DISABLED:
            self._check_no_pending_reset()
        obs, rewards, terminations, truncations, infos = self.envs.step(actions)
        resp = pb.Response()
        out = resp.step
        encode_value(obs, out.observation, compress=self._compress, path="observation")
        encode_value(rewards, out.reward, path="rewards")
        encode_value(terminations, out.terminated, path="terminations")
        encode_value(truncations, out.truncated, path="truncations")
        encode_vector_info(infos, out.info, compress=self._compress)
        return resp

    def _check_no_pending_reset(self) -> None:
        # SyncVectorEnv only asserts this (and mid-loop); report it before any sub-env has stepped.
        pending = np.flatnonzero(self.envs._autoreset_envs)
        if pending.size:
            raise InvalidCallError(
                f"autoreset_mode DISABLED: sub-envs {pending.tolist()} ended their episode and must be reset "
                "(reset(options={'reset_mask': ...})) before the next step"
            )

    def _render(self, request: pb.Request) -> pb.Response:
        frames = self.envs.render()
        resp = pb.Response()
        encode_value(frames, resp.render.frame, compress=self._compress, path="render()")
        return resp

    def _call(self, request: pb.Request) -> pb.Response:
        call = request.call
        if not call.name or call.name.startswith("_"):
            raise PermissionDeniedError(f"calling or reading {call.name!r} remotely is not allowed")
        args = decode_value(call.args) if call.HasField("args") else []
        kwargs = decode_value(call.kwargs) if call.HasField("kwargs") else {}
        results = []
        for index, env in enumerate(self._subs):  # SyncVectorEnv.call, with the failing index known
            try:
                target = env.get_wrapper_attr(call.name)
                results.append(target if call.get_attr or not callable(target) else target(*args, **kwargs))
            except Exception as exc:
                raise SubEnvError(index, exc) from exc
        resp = pb.Response()
        encode_value(tuple(results), resp.call.result, compress=self._compress, path=call.name)
        return resp

    def _set_attr(self, request: pb.Request) -> pb.Response:
        name = request.set_attr.name
        if not name or name.startswith("_"):
            raise PermissionDeniedError(f"setting {name!r} remotely is not allowed")
        values = decode_value(request.set_attr.values)
        if not isinstance(values, list) or len(values) != len(self._subs):
            raise InvalidCallError(f"set_attr needs a list of {len(self._subs)} values")
        for index, (env, value) in enumerate(zip(self._subs, values, strict=True)):
            try:
                env.set_wrapper_attr(name, value)
            except Exception as exc:
                raise SubEnvError(index, exc) from exc
        return pb.Response(set_attr=pb.SetAttrResponse())

    def _close(self, request: pb.Request) -> pb.Response:
        self.close()
        return pb.Response(close=pb.CloseResponse())

    def close(self) -> None:
        """Close every sub-environment once."""
        if not self._closed:
            self._closed = True
            self.envs.close()

    _METHODS: ClassVar[dict[str, Callable[[VectorEnvHandler, pb.Request], pb.Response]]] = {
        "reset": _reset,
        "step": _step,
        "render": _render,
        "call": _call,
        "set_attr": _set_attr,
        "close": _close,
    }


def _is_seed_list(seed: Any) -> bool:
    return isinstance(seed, list) and all(
        s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in seed
    )


def _remote_env_error(exc: SubEnvError) -> RemoteEnvError:
    cause = exc.cause
    cause_type = type(cause)
    return RemoteEnvError(
        tag_sub_env_error(exc.index, f"raised {cause_type.__name__}: {cause}"),
        remote_type=f"{cause_type.__module__}.{cause_type.__qualname__}",
        remote_traceback="".join(traceback.format_exception(cause)),
    )
