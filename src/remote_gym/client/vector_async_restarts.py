"""Restart mode for asynchronous stepping: a host lost mid-flight (its worker died) gets a new session.

Its sub-envs answer as after any restart (:mod:`remote_gym.vector.restarts`), each at its own pace: the
sub-envs that were stepping get a truncated result at once (reward 0, their last observation,
``info["env_restarted"]``); the others (queued, or waiting for their action) get it at their next
``send``. NEXT_STEP: the send after that returns the fresh episode's first observation; SAME_STEP: the
truncated result already carries it (the last observation and restart flags as ``final_obs`` and
``final_info``); DISABLED: the sub-env must be reset by the user. A sub-env's result made here costs
no request: its action is ignored, as autoreset ignores it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from remote_gym.client.vector_hosts import VectorHost, attribute_error
from remote_gym.client.vector_recovery import HostRecovery
from remote_gym.client.vector_results import ResultQueue, batch_rows
from remote_gym.codec.requests import reset_request
from remote_gym.codec.vector import decode_reset
from remote_gym.errors import RemoteGymError
from remote_gym.vector.restarts import restart_info

Made = tuple[Any, float, bool, list[dict[Any, Any]]]
"""A result made on the client: ``(observation, reward, truncated, infos)`` (never terminated)."""


class AsyncRestarts:
    """The sub-envs of re-created sessions whose restart results are still to come, and last observations."""

    def __init__(self, space: spaces.Space[Any], mode: AutoresetMode) -> None:
        self._space = space
        self._mode = mode
        self._last: dict[int, Any] = {}
        """Each sub-env's last observation returned by ``recv``: the final one of a restarted episode."""
        self._restarted: dict[int, tuple[str, Any, list[dict[Any, Any]]]] = {}
        """Sub-env -> (reason, its fresh reset obs, reset infos): its next result is the truncated one."""
        self._fresh: dict[int, tuple[Any, list[dict[Any, Any]]]] = {}
        """NEXT_STEP: sub-env -> its fresh reset obs and infos, its result after the truncated one."""

    def note(self, ids: np.ndarray, obs: Any) -> None:
        """Keep the observations ``recv`` returns (the final ones, should their host be lost)."""
        for env_id, row in zip(ids.tolist(), iterate(batch_space(self._space, len(ids)), obs), strict=True):
            self._last[env_id] = row

    def host_lost(
        self,
        ids: range,
        stepping: set[int],
        reason: str,
        reset_obs: Any,
        reset_infos: list[list[dict[Any, Any]]],
    ) -> list[tuple[int, Made]]:
        """Sub-envs ``ids`` were re-created and reset (``reset_obs``, per-env ``reset_infos``): the results
        of those that were ``stepping``, due now; the others' come at their next send."""
        rows = list(iterate(batch_space(self._space, len(ids)), reset_obs))
        due = []
        for env_id, obs, infos in zip(ids, rows, reset_infos, strict=True):
            self._fresh.pop(env_id, None)
            self._restarted[env_id] = (reason, obs, infos)
            if env_id in stepping:
                due.append((env_id, self._truncated(env_id)))
        return due

    def intercept(self, env_id: int) -> Made | None:
        """The result made here for a sub-env sent an action, if it is one of a restart (else None)."""
        if env_id in self._restarted:
            return self._truncated(env_id)
        fresh = self._fresh.pop(env_id, None)
        if fresh is not None:
            return fresh[0], 0.0, False, fresh[1]
        return None

    def made_here(
        self, ids: np.ndarray, actions: Any, batch: spaces.Space[Any], queue: ResultQueue
    ) -> tuple[np.ndarray, list[Any] | None]:
        """Queue the results of the restarted sub-envs among ``ids`` (made here, their actions ignored);
        the other ids and, when some were made here, the others' single actions (else None: all of them)."""
        made = [(i, m) for i in ids.tolist() if (m := self.intercept(i)) is not None]
        if not made:
            return ids, None
        self.queue(queue, made)
        keep = ~np.isin(ids, [i for i, _ in made])
        return ids[keep], [a for a, k in zip(batch_rows(batch, actions, len(ids)), keep, strict=True) if k]

    def _truncated(self, env_id: int) -> Made:
        reason, obs, infos = self._restarted.pop(env_id)
        last = self._last.get(env_id)
        if last is None:
            last = next(iter(iterate(batch_space(self._space, 1), create_empty_array(self._space, 1))))
        flags = restart_info(reason)
        if self._mode is AutoresetMode.SAME_STEP:
            return obs, 0.0, True, [{"final_obs": last, "final_info": flags}, *infos]
        if self._mode is AutoresetMode.NEXT_STEP:
            self._fresh[env_id] = (obs, infos)
        return last, 0.0, True, [flags]

    def queue(self, queue: ResultQueue, made: list[tuple[int, Made]]) -> None:
        """Queue results made here, as one batch."""
        if not made:
            return
        ids = np.array([env_id for env_id, _ in made], dtype=np.int64)
        empty: Any = create_empty_array(self._space, len(made))
        obs = concatenate(self._space, [m[0] for _, m in made], empty)
        calls = [(row, info) for row, (_, m) in enumerate(made) for info in m[3]]
        truncations = np.array([m[2] for _, m in made], dtype=np.bool_)
        rewards = np.array([m[1] for _, m in made], dtype=np.float64)
        queue.append(ids, obs, rewards, np.zeros(len(made), dtype=np.bool_), truncations, calls)


def recover_host(
    k: int,
    host: VectorHost,
    error: RemoteGymError,
    recovery: HostRecovery,
    restarts: AsyncRestarts,
    stepping: set[int],
    timeout: float | None,
) -> list[tuple[int, Made]]:
    """Re-create host ``k``'s session after ``error`` and reset its sub-envs; the results due now.

    Raises:
        RemoteGymError: ``error`` (naming the host) when it cannot be recovered from, or a failure to
            re-create or reset the session.
    """
    try:
        recovery.reopen(k, host, error)
        reply = host.connection.request(reset_request(None, None), timeout=timeout, what="reset on")
    except RemoteGymError as exc:
        raise attribute_error(host, exc) from None
    obs, infos = decode_reset(reply.reset)
    per_env: list[list[dict[Any, Any]]] = [[] for _ in range(host.size)]
    for index, info in infos if isinstance(infos, list) else []:
        per_env[index].append(info)
    reason = f"{type(error).__name__}: {error.message}"
    return restarts.host_lost(range(host.offset, host.stop), stepping, reason, obs, per_env)
