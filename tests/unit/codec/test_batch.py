"""Tests for remote_gym.codec.batch and remote_gym.codec.vector: per-host batches and vector infos."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector.utils import concatenate, create_empty_array

from remote_gym.codec.batch import merge_batches, merge_infos, offsets_of, split_batch, split_sizes
from remote_gym.codec.vector import decode_vector_info, encode_vector_info
from remote_gym.errors import UnsupportedValueError
from remote_gym.testing.envs import DictSpacesEnv, GraphEnv, TupleSpacesEnv
from tests.spaces import SPACE_IDS, SPACES

SIZES = [(5,), (2, 3), (1, 1, 3)]


class _Collector(gym.vector.VectorEnv[Any, Any, Any]):
    """Just enough of a VectorEnv to run Gymnasium's own ``_add_info``."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


def _vector_info(env_infos: list[dict[str, Any]]) -> dict[str, Any]:
    collector = _Collector(len(env_infos))
    infos: dict[str, Any] = {}
    for i, info in enumerate(env_infos):
        infos = collector._add_info(infos, info, i)
    return infos


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


def _toy_infos(env: gym.Env[Any, Any], count: int, seed: int) -> list[dict[str, Any]]:
    infos = []
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for i in range(count):
        _, _, terminated, _, info = env.step(env.action_space.sample())
        if i % 3 == 0:
            info = {**info, "final_obs": env.observation_space.sample(), "final_info": {"k": i}}
        if i % 2:
            info = {key: value for key, value in info.items() if key != "phase"}
        infos.append(info)
        if terminated:
            env.reset()
    return infos


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("env_cls", [DictSpacesEnv, TupleSpacesEnv, GraphEnv])
def test_merged_infos_equal_gymnasium_add_info(
    env_cls: type[gym.Env[Any, Any]], sizes: tuple[int, ...]
) -> None:
    """Per-host vector infos (keys missing on some envs, object arrays) merge as _add_info would build them."""
    env_infos = _toy_infos(env_cls(), sum(sizes), seed=sum(sizes))
    parts = [
        _vector_info(env_infos[start : start + size])
        for start, size in zip(offsets_of(sizes), sizes, strict=True)
    ]
    assert data_equivalence(merge_infos(parts, sizes), _vector_info(env_infos), exact=True)


def test_merge_infos_skips_hosts_without_info() -> None:
    """A host that sent no info (left out of a masked reset) contributes nothing but zeros and masks."""
    part = _vector_info([{"a": 1}, {"a": 2}])
    merged = merge_infos([None, part], [3, 2])
    assert data_equivalence(merged, _vector_info([{}, {}, {}, {"a": 1}, {"a": 2}]), exact=True)


@pytest.mark.parametrize("env_cls", [DictSpacesEnv, TupleSpacesEnv, GraphEnv])
def test_vector_info_round_trip(env_cls: type[gym.Env[Any, Any]]) -> None:
    """A vector info with object arrays (final_obs, strings, None, lists) decodes to an equal info."""
    info = _vector_info(_toy_infos(env_cls(), 4, seed=3))
    assert any(isinstance(v, np.ndarray) and v.dtype == object for v in info.values())
    assert data_equivalence(decode_vector_info(encode_vector_info(info)), info, exact=True)


def test_vector_info_refuses_non_arrays() -> None:
    """Only dicts and arrays belong in a vector info; anything else is refused with its path."""
    with pytest.raises(UnsupportedValueError, match=r"infos\['x'\]"):
        encode_vector_info({"x": [1, 2]})
    with pytest.raises(UnsupportedValueError, match="1-d"):
        encode_vector_info({"x": np.empty((2, 2), dtype=object)})
