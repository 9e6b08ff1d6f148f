"""EnvPool-style asynchronous stepping of a RemoteVectorEnv: ``send`` actions, ``recv`` the first M ready.

Each host keeps at most one ``async_step`` request in flight (a session's stream answers in order).
That request carries the actions sent for the host's sub-envs since its previous one and asks for
as many of the results still needed as its stepping sub-envs can give; the server replies once it has
them, or a short while after its first (``LINGER_S``), with every result ready by then
(:mod:`remote_gym.server.handlers.async_steps`). ``recv`` waits on
all hosts' requests at once on the vector env's event loop, queues the results in the order they
came, sends each answering host its next actions at once, and returns once M results are queued.
Results travel per sub-env, so each sub-env's trajectory is the local env's, whatever the order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from remote_gym.client.vector_async_restarts import AsyncRestarts, recover_host
from remote_gym.client.vector_hosts import VectorHost, attribute_error, request_on
from remote_gym.client.vector_recovery import HostRecovery
from remote_gym.client.vector_results import ResultQueue, batch_rows
from remote_gym.codec.values import encode_value
from remote_gym.codec.vector import InfoCalls, decode_step
from remote_gym.errors import InvalidActionError, InvalidCallError, RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.vector.infos import replay_infos

LINGER_S = 0.0005
"""How long a host waits, after its first result, for the rest of what it was asked before answering
(16 Sleepy sub-envs over 2 hosts, ``batch_size=8``, in turns: 4.2x ``step()`` with 0.5 ms, 3.7x with 2 ms)."""

MAX_WAIT_S = 0.002
"""How long a host waits for a first result before answering with none: actions sent to it meanwhile
wait on the client until its answer (a session answers one request at a time)."""

ENV_ID_KEY = "env_id"
"""Info key of ``recv``: the global index of each sub-env in the batch (as EnvPool's ``info["env_id"]``)."""


@dataclass
class _HostState:
    """What one host has to send, has stepping, and the request in flight to it."""

    ids: list[int] = field(default_factory=list)
    """Host-local indices of sub-envs whose actions were sent but not yet passed on."""
    actions: list[Any] = field(default_factory=list)
    stepping: int = 0
    """Sub-envs the server steps (or has results of) that no reply returned yet."""
    task: asyncio.Future[pb.Response] | None = None


class AsyncSteps:
    """The send/recv state of a vector env over ``hosts``; see the module docstring.

    Args:
        hosts: The vector env's hosts (sub-envs numbered host after host).
        observation_space, action_space: The single-env spaces.
        batch_size: Results per :meth:`recv`.
        timeout: Per-request deadline of each host (``timeouts.call``).
    """

    def __init__(
        self,
        hosts: Sequence[VectorHost],
        observation_space: spaces.Space[Any],
        action_space: spaces.Space[Any],
        batch_size: int,
        timeout: float | None,
        recovery: HostRecovery | None = None,
        mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.hosts = list(hosts)
        self.num_envs = sum(host.size for host in hosts)
        self.batch_size = batch_size
        self._obs_space = observation_space
        self._action_space = action_space
        self._timeout = timeout
        self._recovery = recovery
        self._restarts = (
            AsyncRestarts(observation_space, mode) if recovery is not None and recovery.restart else None
        )
        self._host_of = np.concatenate([np.full(h.size, k, dtype=np.int64) for k, h in enumerate(hosts)])
        self._states = [_HostState() for _ in hosts]
        self._ready = ResultQueue(observation_space)
        self.awaiting = np.zeros(self.num_envs, dtype=np.bool_)
        """Sub-envs a ``recv`` (or reset) returned and that got no action since: those ``send`` accepts."""
        self._batch_spaces: dict[int, spaces.Space[Any]] = {}
        self._array_actions = isinstance(
            batch_space(action_space, 1), spaces.Box | spaces.MultiDiscrete | spaces.MultiBinary
        )
        """A batch of actions is one numpy array: a host's actions travel as slices of the caller's."""

    @property
    def busy(self) -> bool:
        """Whether actions were sent whose results no ``recv`` returned yet."""
        return bool(self.queued) or any(s.stepping or s.ids or s.task for s in self._states)

    def _batch(self, n: int) -> spaces.Space[Any]:
        space = self._batch_spaces.get(n)
        if space is None:
            space = self._batch_spaces[n] = batch_space(self._action_space, n)
        return space

    # -- reset -------------------------------------------------------------------------------

    def reset_done(self, obs: Any, infos: InfoCalls) -> None:
        """After a synchronous reset of every sub-env: its results become the first ones ``recv`` returns."""
        self._ready.clear()
        for state in self._states:
            state.ids, state.actions, state.stepping, state.task = [], [], 0, None
        n = self.num_envs
        if obs is not None:
            zeros = np.zeros(n, dtype=np.bool_)
            self._ready.append(np.arange(n), obs, np.zeros(n), zeros, zeros.copy(), list(infos))
        self.awaiting[:] = False

    def reset_all(self) -> None:
        """After a synchronous ``reset()``: every sub-env awaits its action, nothing is queued."""
        self.reset_done(None, [])
        self.awaiting[:] = True

    @property
    def queued(self) -> int:
        """Results received and not yet returned by ``recv``."""
        return self._ready.queued

    # -- send ----------------------------------------------------------------------------------

    def send(self, actions: Any, env_ids: Any) -> None:
        """Queue ``actions`` (a batch, one per id) for the sub-envs ``env_ids``.

        Raises:
            InvalidCallError: An id that no ``recv`` returned since its last action (or repeated).
            InvalidActionError: ``actions`` is not a batch of ``len(env_ids)`` actions.
        """
        ids = np.asarray(env_ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_envs):
            bad = ids[(ids < 0) | (ids >= self.num_envs)]
            raise InvalidCallError(f"send: env id {int(bad[0])} is not a sub-env (0..{self.num_envs - 1})")
        awaiting = self.awaiting[ids]
        if not awaiting.all():
            raise InvalidCallError(
                f"send: sub-env {int(ids[~awaiting][0])} was not returned by recv since its last action "
                "(send only to the env_ids recv returned)"
            )
        before = int(np.count_nonzero(self.awaiting))
        self.awaiting[ids] = False
        if before - int(np.count_nonzero(self.awaiting)) != len(ids):
            self.awaiting[ids] = True
            raise InvalidCallError(f"send: env_ids {ids.tolist()} name a sub-env twice")
        try:
            items = None
            if self._restarts is not None:
                ids, items = self._restarts.made_here(ids, actions, self._batch(len(ids)), self._ready)
            if len(ids):
                self._queue_actions(ids, actions, items)
        except BaseException:
            self.awaiting[ids] = True
            raise

    def _queue_actions(self, ids: np.ndarray, actions: Any, items: list[Any] | None = None) -> None:
        """Queue each host's share of ``actions`` (or of ``items``, its single actions, when given)."""
        space = self._batch(len(ids))
        if (
            items is None
            and isinstance(actions, np.ndarray)
            and isinstance(space, spaces.Box | spaces.MultiDiscrete | spaces.MultiBinary)
        ):
            if len(actions) != len(ids):
                raise InvalidActionError(f"send got {len(actions)} actions for {len(ids)} env_ids")
            if len(self.hosts) == 1:
                self._states[0].ids.extend(ids.tolist())
                self._states[0].actions.append(np.array(actions))  # a copy: the caller may reuse its array
                return
            hosts = self._host_of[ids]
            for k in np.unique(hosts).tolist():
                mine = hosts == k
                state = self._states[k]
                state.ids.extend((ids[mine] - self.hosts[k].offset).tolist())
                state.actions.append(actions[mine])  # one array of this batch's actions for the host
            return
        if items is None:
            items = batch_rows(space, actions, len(ids))
        for env_id, action in zip(ids.tolist(), items, strict=True):
            k = int(self._host_of[env_id])
            state = self._states[k]
            state.ids.append(env_id - self.hosts[k].offset)
            state.actions.append(action[None] if self._array_actions else action)

    # -- recv ----------------------------------------------------------------------------------

    def kick(self, driver_run: Any) -> None:
        """Pass queued actions to the hosts that have no request in flight, without waiting for results,
        when the next ``recv`` would wait (with fewer queued results than a batch) and there are several
        hosts: the hosts then step while the caller goes on. Otherwise actions gather until that ``recv``,
        and go in fewer, larger requests."""
        if (
            len(self.hosts) > 1
            and self.queued < self.batch_size
            and any(s.ids and s.task is None for s in self._states)
        ):
            self._drive(driver_run, 0)

    def recv(self, driver_run: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The first ``batch_size`` results, in the order they came: ``(obs, rewards, terminations,
        truncations, infos)`` with ``infos["env_id"]``.

        Raises:
            InvalidCallError: Fewer than ``batch_size`` sub-envs are stepping or have results.
            RemoteGymError: A host failed (the error names it, and the sub-env that raised).
        """
        need = self.batch_size
        stepping = self.queued + sum(len(s.ids) + s.stepping for s in self._states)
        if stepping < need:
            raise InvalidCallError(
                f"recv needs {need} sub-envs stepping or with results, and {stepping} are: send "
                "actions to the env_ids the last recv returned first"
            )
        active = [k for k, s in enumerate(self._states) if s.ids or s.stepping or s.task]
        if len(active) == 1 and self._states[active[0]].task is None:
            self._wait_on(active[0], need)  # one host: a plain round trip, no gather machinery
        else:
            self._drive(driver_run, need)
        obs, rewards, terminations, truncations, calls, ids = self._ready.take(need)
        self.awaiting[ids] = True
        if self._restarts is not None:
            self._restarts.note(ids, obs)
        infos: dict[str, Any] = replay_infos(calls, need) if calls else {}
        infos[ENV_ID_KEY] = ids.astype(np.int32)
        return obs, rewards, terminations, truncations, infos

    def settle(self, driver_run: Any) -> None:
        """Wait for the requests in flight (before a synchronous call on the same sessions)."""
        if any(s.task is not None for s in self._states):
            self._drive(driver_run, 0, settle=True)

    def abandon(self, driver_run: Any) -> None:
        """Before closing: cancel the requests in flight (their sessions end next anyway)."""
        tasks = [s.task for s in self._states if s.task is not None]
        for state in self._states:
            state.task = None
        if tasks:

            async def cancel() -> None:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            driver_run(cancel())

    def _drive(self, driver_run: Any, need: int, *, settle: bool = False) -> None:
        """:meth:`_pump` until it has what it waits for, re-creating lost hosts (restart mode) in between."""
        while True:
            failed = driver_run(self._pump(need, settle=settle))
            if not failed:
                return
            for k, exc in failed:
                self._lost(k, exc)

    def _lost(self, k: int, exc: RemoteGymError) -> None:
        """Host ``k`` failed: re-create its session (restart mode), or raise the error naming it."""
        host = self.hosts[k]
        if self._restarts is None or self._recovery is None:
            raise attribute_error(host, exc) from None
        state = self._states[k]
        state.ids, state.actions, state.stepping, state.task = [], [], 0, None
        queued = self._ready.queued_ids()
        stepping = {i for i in range(host.offset, host.stop) if not self.awaiting[i] and i not in queued}
        made = recover_host(k, host, exc, self._recovery, self._restarts, stepping, self._timeout)
        self._restarts.queue(self._ready, made)

    async def _pump(self, need: int, *, settle: bool = False) -> list[tuple[int, RemoteGymError]]:
        """Keep every host busy and gather replies until ``need`` results are queued; the hosts that failed."""
        errors: list[tuple[int, RemoteGymError]] = []
        while True:
            for k, state in enumerate(self._states):
                if state.task is None and (state.ids or (state.stepping and self.queued < need)):
                    state.task = asyncio.ensure_future(self._ask(k, max(need, self.batch_size)))
            tasks = [s.task for s in self._states if s.task is not None]
            if errors or (self.queued >= need and not (settle and tasks)):
                break
            if not tasks:
                break
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for k, state in enumerate(self._states):
                if state.task is not None and state.task in done:
                    task, state.task = state.task, None
                    try:
                        self._take(k, task.result())
                    except RemoteGymError as exc:
                        errors.append((k, exc))
        await asyncio.sleep(0)  # let the requests just started go out before the caller goes on
        return errors

    def _wait_on(self, k: int, need: int) -> None:
        """Round trips to host ``k`` alone (nothing else in flight) until ``need`` results are queued."""
        host = self.hosts[k]
        while self.queued < need:
            request = self._request(k, need, max_wait_s=0.0)  # no actions can come meanwhile
            try:
                reply = host.connection.request(request, timeout=self._timeout, what="async step on")
            except RemoteGymError as exc:
                self._lost(k, exc)
                continue
            self._take(k, reply)

    async def _ask(self, k: int, need: int) -> pb.Response:
        """Send host ``k`` its queued actions; its reply (results of at least one sub-env)."""
        request = self._request(k, need, max_wait_s=MAX_WAIT_S)
        return await request_on(self.hosts[k].connection, request, self._timeout, "async step on")

    def _request(self, k: int, need: int, *, max_wait_s: float) -> pb.Request:
        """Host ``k``'s next request: its queued actions, and a wait for all the results still needed
        that its stepping sub-envs can give (not a share: the first host ready answers a whole batch in
        one reply), or fewer :data:`LINGER_S` after its first."""
        state = self._states[k]
        request = pb.Request()
        ask = request.async_step
        ask.min_ready = max(1, min(need - self.queued, state.stepping + len(state.ids)))
        ask.linger_s = LINGER_S
        ask.max_wait_s = max_wait_s
        if state.ids:
            ask.env_ids.extend(state.ids)
            batch: Any
            if self._array_actions:  # arrays of several actions each, in the order of state.ids
                batch = np.concatenate(state.actions)
            else:
                empty: Any = create_empty_array(self._action_space, len(state.ids))
                batch = concatenate(self._action_space, state.actions, empty)
            encode_value(batch, ask.actions, path="actions")
            state.stepping += len(state.ids)
            state.ids, state.actions = [], []
        return request

    def _take(self, k: int, reply: pb.Response) -> None:
        step = reply.async_step
        if not step.env_ids:  # the host's wait ended with no result (max_wait_s)
            return
        obs, rewards, terminations, truncations, infos = decode_step(step.step)
        ids = np.asarray(step.env_ids, dtype=np.int64) + self.hosts[k].offset
        self._states[k].stepping -= len(ids)
        calls = infos if isinstance(infos, list) else []
        self._ready.append(ids, obs, rewards, terminations, truncations, calls)
