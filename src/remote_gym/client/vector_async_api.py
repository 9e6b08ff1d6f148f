"""The EnvPool-style methods of RemoteVectorEnv: ``async_reset``, ``send``, ``recv`` (see :mod:`.vector_async`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from remote_gym.capabilities import CAP_VECTOR_ASYNC
from remote_gym.client.vector_async import ENV_ID_KEY, AsyncSteps
from remote_gym.client.vector_calls import reset_hosts
from remote_gym.client.vector_hosts import VectorHost
from remote_gym.codec.vector import InfoCalls
from remote_gym.errors import ConfigError, InvalidActionError, InvalidCallError
from remote_gym.vector.infos import shift_calls
from remote_gym.vector.parts import VectorParts


def check_batch_size(batch_size: int | None, num_envs: int) -> int:
    """``batch_size`` (``num_envs`` when None).

    Raises:
        ConfigError: Not between 1 and ``num_envs``.
    """
    if batch_size is None:
        return num_envs
    if not 1 <= int(batch_size) <= num_envs:
        raise ConfigError(f"batch_size must be between 1 and num_envs={num_envs}, got {batch_size}")
    return int(batch_size)


def check_async_hosts(hosts: Sequence[VectorHost], vectorization_mode: str) -> None:
    """Refuse asynchronous stepping where a host cannot do it.

    Raises:
        ConfigError: A server without the ``vector_async`` capability (an older release), or sub-envs
            stepped by the env's own vectorised implementation.
    """
    if vectorization_mode != "sync":
        raise ConfigError("batch_size needs vectorization_mode='sync' (sub-envs stepped one by one)")
    for host in hosts:
        agreement = host.connection.agreement
        if agreement is None or CAP_VECTOR_ASYNC not in agreement.capabilities:
            raise ConfigError(
                f"{host.target} runs a remote-gym release without asynchronous vector stepping "
                f"(capability {CAP_VECTOR_ASYNC!r}): upgrade it, or use batch_size=None and step()"
            )


@dataclass(frozen=True)
class _Result:
    """A whole ``recv``'s result known already (``async_reset`` with a batch of every sub-env)."""

    result: tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]


class AsyncVectorMethods:
    """``async_reset``/``send``/``recv`` for a RemoteVectorEnv made with ``batch_size``."""

    _hosts: list[VectorHost]
    _parts: VectorParts
    _async: AsyncSteps | None
    _timeouts: Any
    num_envs: int
    batch_size: int
    _whole: Any = None
    """With ``batch_size == num_envs``: the actions of a send to every sub-env at once, for the next
    ``recv`` (which then waits for every sub-env: a synchronous step, made as :meth:`step` makes it),
    or ``async_reset``'s result (a synchronous reset) for it."""

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        raise NotImplementedError

    def _check_open(self) -> None:
        raise NotImplementedError

    single_observation_space: Any
    single_action_space: Any
    vectorization_mode: str

    def _setup_async(self, batch_size: int | None, timeout: float | None) -> None:
        """Set :attr:`batch_size` and, when one was given, the send/recv state (once the hosts are made).

        Raises:
            ConfigError: A batch size out of range, or a host that cannot step asynchronously.
        """
        self.batch_size = check_batch_size(batch_size, self.num_envs)
        if self.batch_size < self.num_envs and self._parts.autoreset_mode is AutoresetMode.DISABLED:
            raise ConfigError(
                "batch_size below num_envs needs autoreset_mode NEXT_STEP or SAME_STEP: with DISABLED, "
                "ended sub-envs would need reset(options={'reset_mask': ...}), which steps all of them"
            )
        if batch_size is not None:
            check_async_hosts(self._hosts, self.vectorization_mode)
            self._async = AsyncSteps(
                self._hosts,
                self.single_observation_space,
                self.single_action_space,
                self.batch_size,
                timeout,
                recovery=self._recovery,  # type: ignore[attr-defined]
                mode=self._parts.autoreset_mode,
            )

    def _async_steps(self) -> AsyncSteps:
        if self._async is None:
            raise InvalidCallError("send/recv/async_reset need RemoteVectorEnv(..., batch_size=M)")
        self._check_open()
        return self._async

    def _run(self, coro: Any) -> Any:
        connection = self._hosts[0].connection
        call = self._timeouts.call
        return connection.run(coro, connection.recovery_bound(call), "async step on hosts, first")

    def async_reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> None:
        """Reset every sub-env; the next ``recv`` calls return their first observations (EnvPool's ``async_reset``).

        ``seed`` and ``options`` are as in :meth:`reset` (a ``reset_mask`` is refused here).

        Raises:
            InvalidCallError: The env was made without ``batch_size``, or ``options`` has a reset mask.
        """
        steps = self._async_steps()
        if options and "reset_mask" in options:
            raise InvalidCallError("async_reset resets every sub-env; reset_mask is for reset()")
        steps.settle(self._run)
        self._whole = None
        if self.batch_size == self.num_envs:  # the first recv returns every sub-env: this reset's result
            obs, info = self.reset(seed=seed, options=options)
            steps.awaiting[:] = False
            zeros = np.zeros(self.num_envs, dtype=np.bool_)
            self._whole = _Result((obs, np.zeros(self.num_envs), zeros, zeros.copy(), info))
            return
        plan = self._parts.plan_reset(seed, options)
        recovery = self._recovery  # type: ignore[attr-defined]
        observations, infos = reset_hosts(self._hosts, plan, recovery, timeout=self._timeouts.call)
        obs = self._parts.finish_reset(plan, observations)
        calls: InfoCalls = []
        for host, part in zip(self._hosts, infos, strict=True):
            calls += shift_calls(part if isinstance(part, list) else [], host.offset)
        steps.reset_done(obs, calls)

    def send(self, actions: Any, env_ids: Any = None) -> None:
        """Step the sub-envs ``env_ids`` (global indices; None: all of the last ``recv``) with ``actions``.

        Returns at once: the hosts step them while the caller goes on; ``recv`` collects the results.

        Raises:
            InvalidCallError: An id that the last ``recv`` calls did not return (or returned and got
                an action since), or an id repeated.
            InvalidActionError: ``actions`` is not one action per id.
        """
        steps = self._async_steps()
        if env_ids is None:
            env_ids = np.flatnonzero(steps.awaiting)
        if self._whole_step(steps, env_ids):
            if isinstance(actions, np.ndarray) and len(actions) != self.num_envs:
                raise InvalidActionError(f"send got {len(actions)} actions for {self.num_envs} env_ids")
            steps.awaiting[:] = False
            self._whole = actions
            return
        steps.send(actions, env_ids)
        steps.kick(self._run)

    def _whole_step(self, steps: AsyncSteps, env_ids: Any) -> bool:
        """Whether this send is every sub-env's, in order, with nothing else in flight and a batch of
        all of them: then the next ``recv`` is exactly a synchronous step, and is made as one."""
        if self.batch_size != self.num_envs or steps.busy or not steps.awaiting.all():
            return False
        ids = np.asarray(env_ids).reshape(-1)
        return len(ids) == self.num_envs and bool((ids == np.arange(self.num_envs)).all())

    def recv(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The first ``batch_size`` sub-envs to finish: ``(obs, rewards, terminations, truncations, infos)``.

        ``infos["env_id"]`` holds their global indices; each sub-env's result is its own (autoreset per
        the env's autoreset mode), and other keys are vectorised over the batch as in ``step``.

        Raises:
            InvalidCallError: Fewer than ``batch_size`` sub-envs are stepping or have results.
            RemoteEnvError: A sub-env raised (names its global index and host).
            TransportError: A host did not answer within ``timeouts.call``.
        """
        steps = self._async_steps()
        if self._whole is None:
            return steps.recv(self._run)
        whole, self._whole = self._whole, None
        if isinstance(whole, _Result):  # async_reset's
            obs, rewards, terminations, truncations, infos = whole.result
        else:
            try:
                obs, rewards, terminations, truncations, infos = self.step(whole)
            except InvalidActionError:  # refused before any sub-env stepped: they await actions again
                steps.awaiting[:] = True
                raise
        steps.awaiting[:] = True
        infos = dict(infos)
        infos[ENV_ID_KEY] = np.arange(self.num_envs, dtype=np.int32)
        return obs, rewards, terminations, truncations, infos

    def _abandon_async(self) -> None:
        """Before closing: cancel requests in flight, never raising."""
        if self._async is not None:
            with contextlib.suppress(Exception):
                self._async.abandon(self._run)

    def _settle_async(self, options: dict[str, Any] | None = None) -> None:
        """Before a synchronous call: wait for the requests in flight (their results stay queued).

        Raises:
            InvalidCallError: ``options`` of a ``reset`` has a reset mask, and sub-envs are stepped one by
                one (the observations of the sub-envs it leaves alone are not kept on this side).
        """
        if self._async is None:
            return
        if options and "reset_mask" in options and self.batch_size < self.num_envs:
            raise InvalidCallError("reset_mask needs batch_size == num_envs; reset every sub-env instead")
        self._async.settle(self._run)

    def _check_sync_step(self) -> None:
        """``step`` steps every sub-env at once: refused with ``batch_size < num_envs`` or results pending.

        Raises:
            InvalidCallError: It is.
        """
        if self.batch_size < self.num_envs:
            raise InvalidCallError(
                f"this vector env was made with batch_size={self.batch_size} < num_envs={self.num_envs}: "
                "step it with send(actions, env_ids) and recv() (EnvPool's API), not step()"
            )
        if self._whole is not None or (self._async is not None and self._async.busy):
            raise InvalidCallError("actions were sent with send(): recv() their results before step()")
