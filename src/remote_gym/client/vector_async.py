"""EnvPool-style asynchronous stepping of a RemoteVectorEnv: ``send`` actions, ``recv`` the first M ready.

Each host keeps at most one ``async_step`` request in flight (a session's stream answers in order).
That request carries the actions sent for the host's sub-envs since its previous one and asks for
the results of at least one of its stepping sub-envs; the server replies as soon as one has finished,
with every result ready by then (:mod:`remote_gym.server.handlers.async_steps`). ``recv`` waits on
all hosts' requests at once on the vector env's event loop, queues the results in the order they
came, sends each answering host its next actions at once, and returns once M results are queued.
Results travel per sub-env, so each sub-env's trajectory is the local env's, whatever the order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from remote_gym.client.connection import Connection
from remote_gym.client.vector_hosts import VectorHost, attribute_error
from remote_gym.codec.values import encode_value
from remote_gym.codec.vector import InfoCalls, decode_step
from remote_gym.errors import InvalidCallError, RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.status import foreign_error
from remote_gym.vector.infos import replay_infos

ENV_ID_KEY = "env_id"
"""Info key of ``recv``: the global index of each sub-env in the batch (as EnvPool's ``info["env_id"]``)."""


@dataclass
class _Result:
    """One sub-env's result, queued until a ``recv`` returns it."""

    env_id: int
    obs: Any
    reward: float
    terminated: bool
    truncated: bool
    infos: list[dict[Any, Any]]


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
        timeout: float,
    ) -> None:
        self.hosts = list(hosts)
        self.num_envs = sum(host.size for host in hosts)
        self.batch_size = batch_size
        self._obs_space = observation_space
        self._action_space = action_space
        self._timeout = timeout
        self._host_of = np.concatenate([np.full(h.size, k, dtype=np.int64) for k, h in enumerate(hosts)])
        self._states = [_HostState() for _ in hosts]
        self._ready: deque[_Result] = deque()
        self.awaiting = np.zeros(self.num_envs, dtype=np.bool_)
        """Sub-envs a ``recv`` (or reset) returned and that got no action since: those ``send`` accepts."""
        self._batch_spaces: dict[int, spaces.Space[Any]] = {}

    @property
    def busy(self) -> bool:
        """Whether actions were sent whose results no ``recv`` returned yet."""
        return bool(self._ready) or any(s.stepping or s.ids or s.task for s in self._states)

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
        per_env: list[list[dict[Any, Any]]] = [[] for _ in range(self.num_envs)]
        for index, info in infos:
            per_env[index].append(info)
        for env_id, env_obs in enumerate(iterate(batch_space(self._obs_space, self.num_envs), obs)):
            self._ready.append(_Result(env_id, env_obs, 0.0, False, False, per_env[env_id]))
        self.awaiting[:] = False

    def reset_all(self) -> None:
        """After a synchronous ``reset()``: every sub-env awaits its action, nothing is queued."""
        self.reset_done(create_empty_array(self._obs_space, self.num_envs), [])
        self._ready.clear()
        self.awaiting[:] = True

    # -- send ----------------------------------------------------------------------------------

    def send(self, actions: Any, env_ids: Any) -> None:
        """Queue ``actions`` (a batch, one per id) for the sub-envs ``env_ids``.

        Raises:
            InvalidCallError: An id that no ``recv`` returned since its last action (or repeated).
            InvalidActionError: ``actions`` is not a batch of ``len(env_ids)`` actions.
        """
        ids = np.asarray(env_ids, dtype=np.int64).reshape(-1)
        bad = ids[(ids < 0) | (ids >= self.num_envs)]
        if bad.size:
            raise InvalidCallError(f"send: env id {int(bad[0])} is not a sub-env (0..{self.num_envs - 1})")
        if len(np.unique(ids)) != len(ids):
            raise InvalidCallError(f"send: env_ids {ids.tolist()} name a sub-env twice")
        not_ready = ids[~self.awaiting[ids]]
        if not_ready.size:
            raise InvalidCallError(
                f"send: sub-env {int(not_ready[0])} was not returned by recv since its last action "
                "(send only to the env_ids recv returned)"
            )
        items = _split_actions(self._batch(len(ids)), actions, len(ids))
        self.awaiting[ids] = False
        for env_id, action in zip(ids.tolist(), items, strict=True):
            k = int(self._host_of[env_id])
            state = self._states[k]
            state.ids.append(env_id - self.hosts[k].offset)
            state.actions.append(action)

    # -- recv ----------------------------------------------------------------------------------

    def kick(self, driver_run: Any) -> None:
        """Pass queued actions to the hosts that have no request in flight (without waiting for results)."""
        if any(s.ids and s.task is None for s in self._states):
            driver_run(self._pump(0))

    def recv(self, driver_run: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The first ``batch_size`` results, in the order they came: ``(obs, rewards, terminations,
        truncations, infos)`` with ``infos["env_id"]``.

        Raises:
            InvalidCallError: Fewer than ``batch_size`` sub-envs are stepping or have results.
            RemoteGymError: A host failed (the error names it, and the sub-env that raised).
        """
        need = self.batch_size
        stepping = len(self._ready) + sum(len(s.ids) + s.stepping for s in self._states)
        if stepping < need:
            raise InvalidCallError(
                f"recv needs {need} sub-envs stepping or with results, and {stepping} are: send "
                "actions to the env_ids the last recv returned first"
            )
        driver_run(self._pump(need))
        batch = [self._ready.popleft() for _ in range(need)]
        ids = np.array([r.env_id for r in batch], dtype=np.int32)
        self.awaiting[ids] = True
        obs = concatenate(self._obs_space, [r.obs for r in batch], create_empty_array(self._obs_space, need))
        infos = replay_infos([(k, info) for k, r in enumerate(batch) for info in r.infos], need)
        infos[ENV_ID_KEY] = ids
        return (
            obs,
            np.array([r.reward for r in batch], dtype=np.float64),
            np.array([r.terminated for r in batch], dtype=np.bool_),
            np.array([r.truncated for r in batch], dtype=np.bool_),
            infos,
        )

    def settle(self, driver_run: Any) -> None:
        """Wait for the requests in flight (before a synchronous call on the same sessions)."""
        if any(s.task is not None for s in self._states):
            driver_run(self._pump(0, settle=True))

    async def _pump(self, need: int, *, settle: bool = False) -> None:
        """Keep every host busy and gather replies until ``need`` results are queued."""
        errors: list[RemoteGymError] = []
        while True:
            for k, state in enumerate(self._states):
                if state.task is None and (state.ids or (state.stepping and len(self._ready) < need)):
                    state.task = asyncio.ensure_future(self._ask(k))
            tasks = [s.task for s in self._states if s.task is not None]
            if errors or len(self._ready) >= need and not (settle and tasks):
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
                        errors.append(attribute_error(self.hosts[k], exc))
        if errors:
            raise errors[0]
        await asyncio.sleep(0)  # let the requests just started go out before the caller goes on

    async def _ask(self, k: int) -> pb.Response:
        """Send host ``k`` its queued actions; its reply (results of at least one sub-env)."""
        host, state = self.hosts[k], self._states[k]
        request = pb.Request()
        ask = request.async_step
        ask.min_ready = 1
        if state.ids:
            ask.env_ids.extend(state.ids)
            batch = concatenate(
                self._action_space, state.actions, create_empty_array(self._action_space, len(state.ids))
            )
            encode_value(batch, ask.actions, path="actions")
            state.stepping += len(state.ids)
            state.ids, state.actions = [], []
        return await request_on(host.connection, request, self._timeout, "async step on")

    def _take(self, k: int, reply: pb.Response) -> None:
        offset = self.hosts[k].offset
        step = reply.async_step
        obs, rewards, terminations, truncations, infos = decode_step(step.step)
        n = len(step.env_ids)
        self._states[k].stepping -= n
        per_env: list[list[dict[Any, Any]]] = [[] for _ in range(n)]
        for index, info in infos if isinstance(infos, list) else []:
            per_env[index].append(info)
        for j, (local, env_obs) in enumerate(zip(step.env_ids, iterate(batch_space(self._obs_space, n), obs))):
            self._ready.append(
                _Result(
                    offset + int(local),
                    env_obs,
                    float(rewards[j]),
                    bool(terminations[j]),
                    bool(truncations[j]),
                    per_env[j],
                )
            )


def _split_actions(space: spaces.Space[Any], actions: Any, n: int) -> list[Any]:
    """The single actions of a batch of ``n``.

    Raises:
        InvalidActionError: ``actions`` is not such a batch.
    """
    from remote_gym.errors import InvalidActionError

    try:
        items = list(iterate(space, actions))
    except Exception as exc:
        raise InvalidActionError(f"actions {actions!r} are not a batch of {n} actions of {space}") from exc
    if len(items) != n:
        raise InvalidActionError(f"send got {len(items)} actions for {n} env_ids")
    return items


async def request_on(connection: Connection, request: pb.Request, timeout: float, what: str) -> pb.Response:
    """:meth:`Connection.request` as a coroutine on the connection's loop, for requests in flight together.

    Raises:
        RemoteGymError: As :meth:`Connection.request` (a failure in flight breaks the session).
    """
    connection.check_open()
    kind = request.WhichOneof("kind")
    payload = connection._prepare(request)
    try:
        reply = await connection._exchange(payload, timeout)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            raise
        error = foreign_error(exc, f"{what} {connection.target}", timeout=timeout)
        connection._mark_broken(error)
        raise error from exc
    return connection._parse_reply(reply, kind)
