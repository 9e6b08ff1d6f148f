"""Tests for remote_gym.vector.parts: the bookkeeping of a vector env split into parts, against SyncVectorEnv."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode

from remote_gym.errors import InvalidCallError
from remote_gym.vector.parts import VectorParts


def _envs(count: int, mode: AutoresetMode) -> gym.vector.SyncVectorEnv:
    return gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * count, autoreset_mode=mode)


def test_parts_stepped_as_the_plan_says_answer_as_one_sync_vector_env() -> None:
    """Parts seeded, masked and merged as VectorParts says give one SyncVectorEnv's observations, and
    in DISABLED mode refuse a step while an ended sub-env awaits its reset."""
    sizes, mode = [2, 3], AutoresetMode.DISABLED
    whole, shares = _envs(5, mode), [_envs(size, mode) for size in sizes]
    parts = VectorParts(whole.single_observation_space, sizes, mode)
    plan = parts.plan_reset(3, None)
    obs = parts.finish_reset(plan, {k: share.reset(seed=plan.seeds[k])[0] for k, share in enumerate(shares)})
    assert data_equivalence(obs, whole.reset(seed=3)[0])
    actions = np.ones(5, dtype=np.int64)
    while True:
        expected = whole.step(actions)
        results = [share.step(actions[:2] if k == 0 else actions[2:])[:4] for k, share in enumerate(shares)]
        merged = parts.finish_step(results)
        assert all(data_equivalence(a, b) for a, b in zip(merged, expected[:4], strict=True))
        if parts.pending.any():
            break
    with pytest.raises(InvalidCallError, match="DISABLED"):
        parts.check_step()
    mask = parts.pending.copy()
    plan = parts.plan_reset(None, {"reset_mask": mask})
    assert plan.active == [bool(mask[:2].any()), bool(mask[2:].any())]
    observations = {
        k: share.reset(options=plan.options[k])[0] for k, share in enumerate(shares) if plan.active[k]
    }
    obs = parts.finish_reset(plan, observations)
    assert data_equivalence(obs, whole.reset(options={"reset_mask": mask})[0])
    parts.check_step()
    for envs in (whole, *shares):
        envs.close()
