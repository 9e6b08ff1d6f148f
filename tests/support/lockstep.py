"""A remote vector env checked step by step against a local SyncVectorEnv (hub, network-lane tests)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv


def same_vector(
    remote: Any, n: int, mode: AutoresetMode, steps: int, *, seed: int = 9, action_seed: int = 0
) -> None:
    """A remote vector env of ``n`` CartPoles steps as a local SyncVectorEnv in autoreset ``mode``
    (DISABLED: the ended sub-envs reset by ``reset_mask``), from ``reset(seed=seed)``."""
    local = SyncVectorEnv([lambda: gym.make("CartPole-v1")] * n, autoreset_mode=mode)
    try:
        assert data_equivalence(remote.reset(seed=seed), local.reset(seed=seed), exact=True)
        rng = np.random.default_rng(action_seed)
        for _ in range(steps):
            actions = rng.integers(0, 2, size=n)
            expected = local.step(actions)
            assert data_equivalence(remote.step(actions), expected, exact=True)
            done = expected[2] | expected[3]
            if mode is AutoresetMode.DISABLED and done.any():
                options = {"reset_mask": done}
                assert data_equivalence(
                    remote.reset(options=options), local.reset(options=options), exact=True
                )
    finally:
        local.close()
