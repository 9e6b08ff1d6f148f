"""Tests for remote_gym.vector.actions: the batch action check answers exactly as ``space.contains``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import batch_space

from remote_gym.vector.actions import BatchActionCheck
from tests.spaces import SPACE_IDS, SPACES

DISCRETES = [
    gym.spaces.Discrete(2),
    gym.spaces.Discrete(5, start=-2),
    gym.spaces.Discrete(3, start=100),
    gym.spaces.Discrete(200, start=-300),
]
INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def _candidates(space: gym.spaces.Discrete, n: int) -> list[Any]:
    """Batches of n actions in and out of range, of every integer dtype and a few other kinds and shapes."""
    start, size = int(space.start), int(space.n)
    values = [start, start + size - 1, start - 1, start + size, 0, 255, -129, 2**40]
    rng = np.random.default_rng(0)
    out: list[Any] = []
    for dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        for low in values:
            for high in values:
                if info.min <= low <= info.max and info.min <= high <= info.max:
                    batch = rng.integers(min(low, high), max(low, high) + 1, n, dtype=np.int64)
                    batch[0], batch[-1] = low, high
                    out.append(batch.astype(dtype))
    out += [
        np.full(n, start, dtype=np.float32),
        np.full(n, start + 0.5),
        np.full(n, True),
        np.full(n, start, dtype=object),
        np.full(n + 1, start),
        np.full((n, 1), start),
        np.full(n, start).tolist(),
        tuple(range(start, start + n)),
        start,
        np.int64(start),
    ]
    return out


@pytest.mark.parametrize("space", DISCRETES, ids=str)
@pytest.mark.parametrize("n", [1, 32])
def test_the_check_of_a_discrete_batch_answers_as_contains(space: gym.spaces.Discrete, n: int) -> None:
    batch = batch_space(space, n)
    check = BatchActionCheck(batch)
    candidates = _candidates(space, n)
    answers = [check(x) for x in candidates]
    assert answers == [bool(batch.contains(x)) for x in candidates]
    assert any(answers)
    assert not all(answers)
    # asked again, from the dtypes learned on the first pass
    assert [check(x) for x in candidates] == answers


@pytest.mark.parametrize("space", SPACES, ids=SPACE_IDS)
def test_other_batched_spaces_answer_as_contains(space: gym.Space[Any]) -> None:
    batch = batch_space(space, 3)
    check = BatchActionCheck(batch)
    batch.seed(0)
    good = batch.sample()
    assert check(good) is True
    assert check(good) == bool(batch.contains(good))
    other = batch_space(gym.spaces.Discrete(2, start=7), 3).sample()
    assert _answer(check, other) == _answer(batch.contains, other)


def _answer(contains: Any, x: Any) -> Any:
    """``contains(x)`` as a bool, or the type of what it raised."""
    try:
        return bool(contains(x))
    except Exception as exc:
        return type(exc)


def test_a_multidiscrete_batch_of_unequal_entries_asks_the_space() -> None:
    batch = batch_space(gym.spaces.MultiDiscrete([2, 3]), 2)  # a 2-d MultiDiscrete: no shortcut
    check = BatchActionCheck(batch)
    for x in (np.array([[1, 2], [0, 0]]), np.array([[2, 2], [0, 0]]), np.array([[1, 3], [0, 0]])):
        assert check(x) == bool(batch.contains(x))
    uneven = gym.spaces.MultiDiscrete([2, 3])  # one dimension, entries not all alike
    check = BatchActionCheck(uneven)
    for x in (np.array([1, 2]), np.array([2, 0]), np.array([0, 3])):
        assert check(x) == bool(uneven.contains(x))
