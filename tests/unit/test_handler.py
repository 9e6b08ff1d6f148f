"""The server's action membership test agrees with the space's own ``contains``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from remote_gym.server.handlers.env import _contains, _membership_test

_VALUES: list[Any] = [
    0,
    1,
    2,
    -3,
    -4,
    5,
    2**70,
    -(2**70),
    True,
    False,
    np.int64(1),
    np.int64(-3),
    np.int64(9),
    np.int32(1),
    np.uint8(1),
    np.float32(1.0),
    1.0,
    np.array(1),
    np.array([1]),
    "1",
    None,
]


@pytest.mark.parametrize(
    "space",
    [gym.spaces.Discrete(2), gym.spaces.Discrete(5, start=-3), gym.spaces.Discrete(3, dtype=np.int32)],
    ids=repr,
)
def test_discrete_membership_equals_contains(space: gym.spaces.Discrete) -> None:
    is_action = _membership_test(space)
    for value in _VALUES:
        assert is_action(value) == _contains(space, value), value


def test_other_spaces_use_contains() -> None:
    space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    is_action = _membership_test(space)
    assert is_action(np.zeros(2, np.float32))
    assert not is_action(np.zeros(2, np.float64))
    assert not is_action(np.zeros(3, np.float32))
