"""Tests for remote_gym.vector.splits: per-part batches, sizes and set_attr values."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector.utils import concatenate, create_empty_array

from remote_gym.vector.splits import (
    merge_batches,
    offsets_of,
    set_attr_values,
    split_batch,
    split_sizes,
    stack_items,
)
from tests.spaces import SPACE_IDS, SPACES

SIZES = [(5,), (2, 3), (1, 1, 3)]


def _gym_batch(space: gym.Space[Any], items: list[Any]) -> Any:
    return concatenate(space, items, create_empty_array(space, len(items)))


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_merged_host_batches_equal_one_batch(space: gym.Space[Any], sizes: tuple[int, ...]) -> None:
    """Batches of consecutive envs merge into exactly the batch Gymnasium builds for all envs."""
    space.seed(0)
    items = [space.sample() for _ in range(sum(sizes))]
    parts = [
        _gym_batch(space, items[start : start + size])
        for start, size in zip(offsets_of(sizes), sizes, strict=True)
    ]
    assert data_equivalence(merge_batches(space, parts), _gym_batch(space, items), exact=True)


@pytest.mark.parametrize("count", [0, 1, 5])
@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_stacked_items_equal_gymnasiums_batch(space: gym.Space[Any], count: int) -> None:
    """Single items stack into exactly the batch Gymnasium's concatenate builds (none: its empty batch),
    for every space."""
    space.seed(2)
    items = [space.sample() for _ in range(count)]
    expected = _gym_batch(space, items) if items else create_empty_array(space, 0)
    assert data_equivalence(stack_items(space, items), expected, exact=True)


def test_stacked_box_items_of_other_dtypes_or_shapes_go_gymnasiums_way() -> None:
    """Items that are not arrays of the Box's dtype and shape: cast as concatenate casts, or refused as
    it refuses them."""
    box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    mixed = [np.ones(2, np.float64), np.zeros(2, np.float32), [0.5, 0.25]]
    stacked = stack_items(box, mixed)
    assert stacked.dtype == np.float32
    assert data_equivalence(stacked, _gym_batch(box, mixed), exact=True)
    with pytest.raises(ValueError, match="same shape"):
        stack_items(box, [np.ones(2, np.float32), np.ones(3, np.float32)])


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_split_batch_gives_each_host_its_envs(space: gym.Space[Any]) -> None:
    """Splitting a batch along the env axis gives the sub-batches Gymnasium would build."""
    space.seed(1)
    items = [space.sample() for _ in range(5)]
    batch = _gym_batch(space, items)
    for start, stop in ((0, 2), (2, 5), (4, 5)):
        part = split_batch(space, batch, start, stop)
        assert data_equivalence(part, _gym_batch(space, items[start:stop]), exact=True)


def test_split_sizes_are_even_with_the_remainder_first() -> None:
    """An even split gives the first hosts one more env each."""
    assert split_sizes(10, 3) == [4, 3, 3]
    assert split_sizes(4, 4) == [1, 1, 1, 1]
    assert offsets_of([4, 3, 3]) == [0, 4, 7]


def test_set_attr_values_are_one_per_sub_env_as_sync_vector_env_takes_them() -> None:
    """A list or tuple gives each sub-env its value, another value goes to all; a wrong length is
    refused with Gymnasium's own message (that of ``SyncVectorEnv.set_attr``)."""
    assert set_attr_values((1, 2, 3), 3) == [1, 2, 3]
    assert set_attr_values(7, 3) == [7, 7, 7]
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 3)
    with pytest.raises(ValueError, match="Got `2` values") as gymnasium_error:
        envs.set_attr("x", [1, 2])
    envs.close()
    with pytest.raises(ValueError, match="Got `2` values") as ours:
        set_attr_values([1, 2], 3)
    assert str(ours.value) == str(gymnasium_error.value)
