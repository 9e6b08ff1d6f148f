"""Split batched values along the env axis, and merge per-host batches back into one batch."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from remote_gym.errors import DecodeError

# The results equal what one Gymnasium ``SyncVectorEnv`` over all sub-environments would give:
# batches follow ``gymnasium.vector.utils`` (``batch_space`` / ``concatenate``) for every space, and
# merged infos follow ``VectorEnv._add_info`` (a ``_key`` mask beside every key, zeros or ``None``
# where a sub-env had no such key, key order by first appearance).

_ARRAY_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def split_sizes(total: int, parts: int) -> list[int]:
    """An even split of ``total`` envs over ``parts`` hosts; the first hosts take the remainder."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def offsets_of(sizes: Sequence[int]) -> list[int]:
    """Start index of each part: ``[0, s0, s0 + s1, ...]``."""
    return [0, *itertools.accumulate(sizes)][:-1]


def split_batch(space: spaces.Space[Any], batch: Any, start: int, stop: int) -> Any:
    """The sub-batch of envs ``start:stop`` of ``batch``, a batch of ``space`` (a single-env space).

    Arrays are sliced (views); the tuples Gymnasium uses for Text, Sequence, Graph and OneOf, and a
    list given by the caller, are sliced as such.
    """
    if isinstance(space, spaces.Dict):
        return {key: split_batch(sub, batch[key], start, stop) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(split_batch(sub, batch[i], start, stop) for i, sub in enumerate(space.spaces))
    return batch[start:stop]


def merge_batches(space: spaces.Space[Any], parts: Sequence[Any]) -> Any:
    """One batch of ``space`` made of ``parts`` (batches of consecutive envs), as ``concatenate`` makes it."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(space, spaces.Dict):
        return {key: merge_batches(sub, [part[key] for part in parts]) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(merge_batches(sub, [part[i] for part in parts]) for i, sub in enumerate(space.spaces))
    if isinstance(space, _ARRAY_SPACES):
        return np.concatenate(parts, axis=0)
    return tuple(itertools.chain.from_iterable(parts))


def merge_infos(parts: Sequence[dict[Any, Any] | None], sizes: Sequence[int]) -> dict[Any, Any]:
    """One vectorised info dict for all envs, from per-host vectorised infos (None: no info from that host).

    Args:
        parts: Each host's info dict, in host order.
        sizes: Each host's number of envs.

    Returns:
        The merged info dict.
    """
    total = sum(sizes)
    merged: dict[Any, Any] = {}
    for part, offset, size in zip(parts, offsets_of(sizes), sizes, strict=True):
        if part:
            _merge_into(merged, part, offset, size, total)
    return merged


def _merge_into(merged: dict[Any, Any], part: dict[Any, Any], offset: int, size: int, total: int) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            target = merged.get(key)
            if not isinstance(target, dict):
                target = merged[key] = {}
            _merge_into(target, value, offset, size, total)
            continue
        target = merged.get(key)
        if target is None:
            if value.dtype == object:
                target = np.full(total, None, dtype=object)
            else:
                target = np.zeros((total, *value.shape[1:]), dtype=value.dtype)
            merged[key] = target
        window = target[offset : offset + size]
        mask = part.get(f"_{key}") if not _is_mask_key(key, part) else None
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (size,):
            window[mask] = value[mask]  # only the envs that had the key, as _add_info assigns them
        else:
            window[...] = value


InfoCalls = list[tuple[int, dict[Any, Any]]]
"""Sub-env infos in the order ``SyncVectorEnv`` adds them: ``(sub-env index, that env's info dict)``."""


class _InfoBuilder:
    """Just enough of a VectorEnv to run Gymnasium's own ``VectorEnv._add_info`` (it reads ``num_envs``)."""

    _add_info = VectorEnv._add_info  # its recursion into nested dicts calls self._add_info

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


def replay_infos(calls: InfoCalls, num_envs: int) -> dict[Any, Any]:
    """The vectorised info one ``SyncVectorEnv`` of ``num_envs`` sub-envs builds from ``calls``.

    Replaying every sub-env's own info through Gymnasium's ``_add_info``, in index order, gives the
    same arrays whatever the split of sub-envs over servers: an info value whose type differs between
    sub-envs (an int here, a float there) is cast as one ``SyncVectorEnv`` casts it, by the type of
    the first sub-env that has the key.
    """
    builder = _InfoBuilder(num_envs)
    infos: dict[Any, Any] = {}
    for index, info in calls:
        if not 0 <= index < num_envs:
            raise DecodeError(f"an info of sub-env {index} in a vector env of {num_envs}")
        infos = VectorEnv._add_info(builder, infos, info, index)  # type: ignore[arg-type]
    return infos


def shift_calls(calls: InfoCalls, offset: int) -> InfoCalls:
    """``calls`` of sub-envs that start at ``offset`` within a larger vector env."""
    return [(index + offset, info) for index, info in calls]


def combine_infos(parts: Sequence[dict[Any, Any] | InfoCalls | None], sizes: Sequence[int]) -> dict[Any, Any]:
    """One vectorised info for all envs from each host's infos (None: that host sent none).

    When every host sent its sub-envs' own infos, they are replayed in index order, which gives
    exactly what one ``SyncVectorEnv`` over all sub-envs gives; otherwise (a host stepped by a
    vectorised implementation, or re-created after a crash) the per-host dicts are merged.
    """
    total = sum(sizes)
    if all(part is None or isinstance(part, list) for part in parts):
        calls: InfoCalls = []
        for part, offset in zip(parts, offsets_of(sizes), strict=True):
            if isinstance(part, list):
                calls += shift_calls(part, offset)
        return replay_infos(calls, total)
    dicts = [
        replay_infos(part, size) if isinstance(part, list) else part
        for part, size in zip(parts, sizes, strict=True)
    ]
    return merge_infos(dicts, sizes)


def _is_mask_key(key: Any, part: dict[Any, Any]) -> bool:
    return isinstance(key, str) and key.startswith("_") and key[1:] in part


def split_seeds(seed: Any, sizes: Sequence[int]) -> list[Any]:
    """Each part's ``seed`` for ``reset``, so that sub-env ``i`` gets what one vector env gives it.

    An int stays an int for a single part (its ``SyncVectorEnv`` makes it ``seed + i``); with several
    parts it becomes the list ``seed + i`` split by part. A list is split by part.

    Raises:
        ValueError: A list whose length is not the number of sub-envs (Gymnasium's message).
    """
    num_envs = sum(sizes)
    if seed is None:
        return [None] * len(sizes)
    if isinstance(seed, (int, np.integer)):  # bool included, as in SyncVectorEnv
        if len(sizes) == 1:
            return [int(seed)]
        seed = [int(seed) + i for i in range(num_envs)]
    seeds = list(seed)
    if len(seeds) != num_envs:
        raise ValueError(
            f"If seeds are passed as a list the length must match num_envs={num_envs} "
            f"but got length={len(seeds)}."
        )
    seeds = [None if s is None else int(s) for s in seeds]
    out, start = [], 0
    for size in sizes:
        out.append(seeds[start : start + size])
        start += size
    return out


def check_reset_mask(mask: Any, num_envs: int) -> np.ndarray:
    """Gymnasium's checks of ``options["reset_mask"]``, with its exception types and messages."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"`options['reset_mask']` must be a numpy array, got {type(mask)}")
    if mask.shape != (num_envs,):
        raise ValueError(f"`options['reset_mask']` must have shape `({num_envs},)`, got {mask.shape}")
    if mask.dtype != np.bool_:
        raise TypeError(f"`options['reset_mask']` must have `dtype=np.bool_`, got {mask.dtype}")
    if not np.any(mask):
        raise ValueError(
            f"`options['reset_mask']` must contain a boolean array with at least one True value, got reset_mask={mask}"
        )
    return mask
