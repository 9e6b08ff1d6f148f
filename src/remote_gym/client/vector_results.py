"""The results a RemoteVectorEnv's hosts sent and no ``recv`` returned yet, in the order they came."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import iterate

from remote_gym.codec.vector import InfoCalls
from remote_gym.errors import InvalidActionError
from remote_gym.vector.splits import merge_batches, split_batch


@dataclass
class _Chunk:
    """The results of one reply (or of a reset), queued until ``recv`` calls return them, row by row."""

    ids: np.ndarray
    """Global sub-env indices, one per row."""
    obs: Any
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    calls: InfoCalls
    """Each row's infos as ``(row, info)``, in row order."""
    start: int = 0
    """Rows already returned."""

    @property
    def left(self) -> int:
        """Rows not yet returned."""
        return len(self.ids) - self.start


class ResultQueue:
    """Queued results, kept as the batches they came in (one per reply) until taken row by row."""

    def __init__(self, space: spaces.Space[Any]) -> None:
        self._space = space
        self._chunks: deque[_Chunk] = deque()

    @property
    def queued(self) -> int:
        """Rows queued and not yet taken."""
        return sum(chunk.left for chunk in self._chunks)

    def queued_ids(self) -> set[int]:
        """The sub-envs of the queued rows."""
        return {int(i) for chunk in self._chunks for i in chunk.ids[chunk.start :]}

    def clear(self) -> None:
        """Drop every queued row."""
        self._chunks.clear()

    def append(
        self,
        ids: np.ndarray,
        obs: Any,
        rewards: np.ndarray,
        terminations: np.ndarray,
        truncations: np.ndarray,
        calls: InfoCalls,
    ) -> None:
        """Queue a batch: ``ids`` its sub-envs, ``calls`` their infos as ``(row, info)``."""
        self._chunks.append(_Chunk(ids, obs, rewards, terminations, truncations, calls))

    def take(self, need: int) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, InfoCalls, np.ndarray]:
        """The first ``need`` queued rows as one batch ``(obs, rewards, terminations, truncations, calls,
        ids)`` (a whole reply's batch as it came); ``need`` must not exceed :attr:`queued`."""
        first = self._chunks[0]
        if first.start == 0 and first.left == need:
            self._chunks.popleft()
            return first.obs, first.rewards, first.terminations, first.truncations, first.calls, first.ids
        parts: list[tuple[_Chunk, int, int]] = []
        while need > sum(b - a for _, a, b in parts):
            chunk = self._chunks[0]
            a = chunk.start
            b = a + min(chunk.left, need - sum(y - x for _, x, y in parts))
            parts.append((chunk, a, b))
            chunk.start = b
            if not chunk.left:
                self._chunks.popleft()
        calls: InfoCalls = []
        row = 0
        for chunk, a, b in parts:
            calls += [(row + i - a, info) for i, info in chunk.calls if a <= i < b]
            row += b - a
        space = self._space
        return (
            merge_batches(space, [split_batch(space, c.obs, a, b) for c, a, b in parts]),
            np.concatenate([c.rewards[a:b] for c, a, b in parts]),
            np.concatenate([c.terminations[a:b] for c, a, b in parts]),
            np.concatenate([c.truncations[a:b] for c, a, b in parts]),
            calls,
            np.concatenate([c.ids[a:b] for c, a, b in parts]),
        )


def batch_rows(space: spaces.Space[Any], actions: Any, n: int) -> list[Any]:
    """The single actions of a batch of ``n``.

    Raises:
        InvalidActionError: ``actions`` is not such a batch.
    """
    try:
        items = list(iterate(space, actions))
    except Exception as exc:
        raise InvalidActionError(f"actions {actions!r} are not a batch of {n} actions of {space}") from exc
    if len(items) != n:
        raise InvalidActionError(f"send got {len(items)} actions for {n} env_ids")
    return items
