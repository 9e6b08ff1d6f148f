"""Splitting a vector env's sub-envs and per-env arguments over parts, and merging the parts' batches back.

The results equal what one Gymnasium ``SyncVectorEnv`` over all sub-environments would give: batches
follow ``gymnasium.vector.utils`` (``batch_space`` / ``concatenate``) for every space, seeds and
reset masks get Gymnasium's own checks and messages.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import concatenate, create_empty_array

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


def stack_items(space: spaces.Space[Any], items: Sequence[Any]) -> Any:
    """One batch of ``space`` made of single ``items``, exactly as Gymnasium's ``concatenate`` makes it.

    Box items that are arrays of the space's dtype and shape (an env's usual observations) are stacked
    by one ``np.array`` call: ``concatenate`` (``np.stack``) checks each item on its own, ~0.8 µs each.
    """
    if not items:
        return create_empty_array(space, 0)
    if isinstance(space, spaces.Box):
        try:
            batch = np.array(items)
        except ValueError:  # items of different shapes: concatenate says what is wrong
            batch = None
        if batch is not None and batch.dtype == space.dtype and batch.shape == (len(items), *space.shape):
            return batch
    out: Any = create_empty_array(space, len(items))
    return concatenate(space, items, out)


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


def set_attr_values(values: Any, num_envs: int) -> list[Any]:
    """``set_attr``'s values, one per sub-env, as ``SyncVectorEnv.set_attr`` takes them.

    Args:
        values: A list or tuple of one value per sub-env, or any other value, for every sub-env.
        num_envs: The number of sub-envs.

    Raises:
        ValueError: A list or tuple whose length is not ``num_envs`` (Gymnasium's message).
    """
    if not isinstance(values, (list, tuple)):
        return [values for _ in range(num_envs)]
    if len(values) != num_envs:
        raise ValueError(
            "Values must be a list or tuple with length equal to the number of environments. "
            f"Got `{len(values)}` values for {num_envs} environments."
        )
    return list(values)
