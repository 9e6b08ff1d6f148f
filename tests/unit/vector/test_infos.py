"""Tests for remote_gym.vector.infos: the parts' infos merged as one SyncVectorEnv builds them."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym.testing.envs import DictSpacesEnv, GraphEnv, TupleSpacesEnv
from remote_gym.vector.infos import combine_infos, merge_infos
from remote_gym.vector.splits import offsets_of
from tests.support.vector_infos import toy_infos, vector_info

SIZES = [(5,), (2, 3), (1, 1, 3)]


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("env_cls", [DictSpacesEnv, TupleSpacesEnv, GraphEnv])
def test_merged_infos_equal_gymnasium_add_info(
    env_cls: type[gym.Env[Any, Any]], sizes: tuple[int, ...]
) -> None:
    """Per-host vector infos (keys missing on some envs, object arrays) merge as _add_info would build them."""
    env_infos = toy_infos(env_cls(), sum(sizes), seed=sum(sizes))
    parts = [
        vector_info(env_infos[start : start + size])
        for start, size in zip(offsets_of(sizes), sizes, strict=True)
    ]
    assert data_equivalence(merge_infos(parts, sizes), vector_info(env_infos), exact=True)


@pytest.mark.parametrize("sizes", SIZES, ids=str)
def test_combined_sub_env_infos_replay_gymnasium_add_info(sizes: tuple[int, ...]) -> None:
    """Each part's sub-env infos (by index within the part) replay into what one vector env builds,
    whatever the split; a part that sent nothing is left out."""
    env_infos = toy_infos(DictSpacesEnv(), sum(sizes), seed=7)
    parts: list[Any] = [
        list(enumerate(env_infos[start : start + size]))
        for start, size in zip(offsets_of(sizes), sizes, strict=True)
    ]
    assert data_equivalence(combine_infos(parts, sizes), vector_info(env_infos), exact=True)
    parts[0] = None
    expected = vector_info([{}] * sizes[0] + env_infos[sizes[0] :])
    assert data_equivalence(combine_infos(parts, sizes), expected, exact=True)


def test_merge_infos_skips_hosts_without_info() -> None:
    """A host that sent no info (left out of a masked reset) contributes nothing but zeros and masks."""
    part = vector_info([{"a": 1}, {"a": 2}])
    merged = merge_infos([None, part], [3, 2])
    assert data_equivalence(merged, vector_info([{}, {}, {}, {"a": 1}, {"a": 2}]), exact=True)
