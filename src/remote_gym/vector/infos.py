"""Merging the parts' infos into one vectorised info, as one ``SyncVectorEnv`` over all sub-envs builds it.

Merged infos follow ``VectorEnv._add_info``: a ``_key`` mask beside every key, zeros or ``None``
where a sub-env had no such key, key order by first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from remote_gym.codec.vector import InfoCalls
from remote_gym.errors import DecodeError
from remote_gym.vector.splits import offsets_of


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


def host_infos(infos: dict[Any, Any] | InfoCalls, size: int) -> dict[Any, Any]:
    """A part's vectorised info over its ``size`` sub-envs, whichever form it came in."""
    return replay_infos(infos, size) if isinstance(infos, list) else infos
