"""A vector session's sub-environments in this process, stepped by Gymnasium's SyncVectorEnv."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from remote_gym.codec.vector import InfoCalls
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.spec import CreateSpec, create_env
from remote_gym.vector.modes import autoreset_mode_of
from remote_gym.vector.parts import disabled_mode_error
from remote_gym.vector.restarts import restart_info

logger = logging.getLogger(__name__)

Infos = dict[str, Any] | InfoCalls
"""A vectorised info dict, or (``CreateSpec.per_env_infos``) the sub-envs' own infos in order."""


class SubEnvError(Exception):
    """A sub-environment raised; carries its index (on this server) and the original exception."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.index = index
        self.cause = cause


class ReportedError(Exception):
    """A failure another process already described as an ``Error`` (a helper's), passed on as it is."""

    def __init__(self, error: pb.Error) -> None:
        super().__init__(error.message)
        self.error = error


class VectorCore(Protocol):
    """What runs a vector session's sub-envs: in this process, over helper processes, or the env's own
    vectorised implementation. :class:`~remote_gym.server.handlers.vector.VectorEnvHandler` gets one."""

    num_envs: int
    autoreset_mode: AutoresetMode
    single_observation_space: gym.Space[Any]
    single_action_space: gym.Space[Any]
    action_space: gym.Space[Any]

    @property
    def first_env(self) -> Any:
        """The first sub-env (or the vector env), for metadata and spec."""
        ...

    def reset(self, seed: Any, options: dict[str, Any] | None) -> tuple[Any, Infos]:
        """Reset (all, or the masked) sub-envs."""
        ...

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Infos]:
        """Step every sub-env."""
        ...

    def render(self) -> tuple[Any, ...]:
        """One frame per sub-env."""
        ...

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any], get_attr: bool) -> tuple[Any, ...]:
        """Call (or read) ``name`` on every sub-env."""
        ...

    def set_attr(self, name: str, values: list[Any]) -> None:
        """Set ``name`` on every sub-env, one value each."""
        ...

    def close(self) -> None:
        """Close every sub-env."""
        ...

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised (restart mode), since the core was created."""
        ...


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
        self.restarts = 0
        """Times the env was recreated after it raised."""

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
        self.restarts += 1

    def get_wrapper_attr(self, name: str) -> Any:
        return self.env.get_wrapper_attr(name)

    def has_wrapper_attr(self, name: str) -> bool:
        return self.env.has_wrapper_attr(name)

    def set_wrapper_attr(self, name: str, value: Any, *, force: bool = True) -> bool:
        return self.env.set_wrapper_attr(name, value, force=force)


def _restart_info(cause: BaseException) -> dict[str, Any]:
    return restart_info(f"{type(cause).__name__}: {cause}")


class _RecordingSyncVectorEnv(SyncVectorEnv):
    """A ``SyncVectorEnv`` that records each sub-env's info in ``calls`` instead of merging it.

    Whoever holds the other sub-envs' infos (the session's worker, or a client of several servers)
    then replays all of them in index order (:func:`~remote_gym.vector.infos.replay_infos`). An empty
    info adds nothing to a vectorised info: only the others are recorded. A core that answers with
    vectorised infos uses a plain ``SyncVectorEnv`` (no extra call per sub-env and step).
    """

    calls: InfoCalls

    def _add_info(
        self, vector_infos: dict[str, Any], env_info: dict[str, Any], env_num: int
    ) -> dict[str, Any]:
        if env_info:
            self.calls.append((env_num, env_info))
        return vector_infos


class LocalVectorCore:
    """``spec.num_envs`` sub-envs in this process; every method returns plain values (no wire types).

    Sub-env ``i`` is created with ``env_index = spec.env_index + i``; its failures raise
    :class:`SubEnvError` with index ``i``. Results are exactly those of ``SyncVectorEnv``.
    """

    def __init__(self, spec: CreateSpec) -> None:
        self.spec = spec
        self.autoreset_mode = autoreset_mode_of(spec.autoreset_mode)
        env_fns = [self._env_fn(i) for i in range(spec.num_envs)]
        # copy=False: results are encoded at once, so Gymnasium's defensive deepcopy is not needed.
        self._recorder: _RecordingSyncVectorEnv | None = None
        self.envs: SyncVectorEnv
        if spec.per_env_infos:
            self.envs = self._recorder = _RecordingSyncVectorEnv(
                env_fns, copy=False, autoreset_mode=self.autoreset_mode
            )
        else:
            self.envs = SyncVectorEnv(env_fns, copy=False, autoreset_mode=self.autoreset_mode)
        self.subs: list[_IndexedEnv] = self.envs.envs  # type: ignore[assignment]
        self.num_envs = self.envs.num_envs
        self.single_observation_space = self.envs.single_observation_space
        self.single_action_space = self.envs.single_action_space
        self.action_space = self.envs.action_space

    def _env_fn(self, index: int) -> Callable[[], gym.Env[Any, Any]]:
        sub_spec = dataclasses.replace(self.spec, env_index=self.spec.env_index + index, num_envs=0)

        def make() -> gym.Env[Any, Any]:
            return _IndexedEnv(lambda: create_env(sub_spec), index, self.spec.restart_on_failure)

        return make

    @property
    def first_env(self) -> gym.Env[Any, Any]:
        """Sub-env 0, whose metadata and spec describe the session."""
        return self.subs[0]

    def _record(self) -> None:
        if self._recorder is not None:
            self._recorder.calls = []

    def _infos(self, infos: dict[str, Any]) -> Infos:
        return infos if self._recorder is None else self._recorder.calls

    def reset(self, seed: Any, options: dict[str, Any] | None) -> tuple[Any, Infos]:
        """``SyncVectorEnv.reset``; the sub-envs' own infos instead when ``spec.per_env_infos``."""
        self._record()
        obs, infos = self.envs.reset(seed=seed, options=options)
        return obs, self._infos(infos)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Infos]:
        """``SyncVectorEnv.step`` (infos as :meth:`reset`'s); in DISABLED mode, refuses to step sub-envs
        that still need a reset."""
        if self.autoreset_mode is AutoresetMode.DISABLED:
            # SyncVectorEnv only asserts this, mid-loop; report it before any sub-env has stepped.
            pending = np.asarray(self.envs._autoreset_envs, dtype=np.bool_)
            if pending.any():
                raise disabled_mode_error(pending)
        self._record()
        obs, rewards, terminations, truncations, infos = self.envs.step(actions)
        return obs, rewards, terminations, truncations, self._infos(infos)

    def render(self) -> tuple[Any, ...]:
        """One frame per sub-env."""
        return tuple(self.envs.render())

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any], get_attr: bool) -> tuple[Any, ...]:
        """``SyncVectorEnv.call`` (``get_attr``: only read), with the failing sub-env's index known."""
        results = []
        for index, env in enumerate(self.subs):
            try:
                target = env.get_wrapper_attr(name)
                results.append(target if get_attr or not callable(target) else target(*args, **kwargs))
            except Exception as exc:
                raise SubEnvError(index, exc) from exc
        return tuple(results)

    def set_attr(self, name: str, values: list[Any]) -> None:
        """``SyncVectorEnv.set_attr`` with one value per sub-env."""
        for index, (env, value) in enumerate(zip(self.subs, values, strict=True)):
            try:
                env.set_wrapper_attr(name, value)
            except Exception as exc:
                raise SubEnvError(index, exc) from exc

    def close(self) -> None:
        """Close every sub-env."""
        self.envs.close()

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised (restart mode), since the core was created."""
        return sum(sub.restarts for sub in self.subs)
