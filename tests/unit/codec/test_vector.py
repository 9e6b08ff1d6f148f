"""Tests for remote_gym.codec.vector: vectorised infos on the wire."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym.codec.vector import decode_vector_info, encode_vector_info
from remote_gym.errors import UnsupportedValueError
from remote_gym.testing.envs import DictSpacesEnv, GraphEnv, TupleSpacesEnv
from tests.support.vector_infos import toy_infos, vector_info


@pytest.mark.parametrize("env_cls", [DictSpacesEnv, TupleSpacesEnv, GraphEnv])
def test_vector_info_round_trip(env_cls: type[gym.Env[Any, Any]]) -> None:
    """A vector info with object arrays (final_obs, strings, None, lists) decodes to an equal info."""
    info = vector_info(toy_infos(env_cls(), 4, seed=3))
    assert any(isinstance(v, np.ndarray) and v.dtype == object for v in info.values())
    assert data_equivalence(decode_vector_info(encode_vector_info(info)), info, exact=True)


def test_vector_info_refuses_non_arrays() -> None:
    """Only dicts and arrays belong in a vector info; anything else is refused with its path."""
    with pytest.raises(UnsupportedValueError, match=r"infos\['x'\]"):
        encode_vector_info({"x": [1, 2]})
    with pytest.raises(UnsupportedValueError, match="1-d"):
        encode_vector_info({"x": np.empty((2, 2), dtype=object)})
