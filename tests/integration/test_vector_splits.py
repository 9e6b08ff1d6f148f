"""A RemoteVectorEnv equals one SyncVectorEnv however its sub-envs are split over servers or workers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.server.server import EnvServer
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

NUM_ENVS = 4
STEPS = 30

# Envs whose info values change type: FrozenLake's "prob" is the int 1 after a reset and a float after
# a step on slippery ice; MixedInfo's "value" is an int after action 0 and a float after action 1.
ENVS = {"FrozenLake-v1": "FrozenLake-v1", "MixedInfo": IMPORTABLE_ENV_IDS["MixedInfo"]}

# (how the 4 sub-envs are split, servers' sizes or None for one server, workers per session)
LAYOUTS = {
    "4": ([4], 1),
    "2+2": ([2, 2], 1),
    "1+3": ([1, 3], 1),
    "1+2+2": ([1, 2, 2], 1),  # 5 sub-envs: the layout the issue names
    "workers-2+2": ([4], 2),
    "workers-2+1+1": ([4], 3),
    "servers-1+3-workers": ([1, 3], 2),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[int, EnvServer]]:
    """Servers by workers per session: 1 (stepping all of a session's sub-envs in one process), 2 and 3."""
    hosted = dict(ENVS)
    with (
        running_server(hosted, hosting="process", grace=0.5) as one,
        running_server(hosted, hosting="process", grace=0.5, workers_per_session=2) as two,
        running_server(hosted, hosting="process", grace=0.5, workers_per_session=3) as three,
    ):
        yield {1: one, 2: two, 3: three}


def _step_both(
    local: gym.vector.VectorEnv[Any, Any, Any], remote: RemoteVectorEnv, mode: AutoresetMode, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    expected = local.reset(seed=seed)
    assert data_equivalence(remote.reset(seed=seed), expected, exact=True)
    for _ in range(STEPS):
        actions = rng.integers(0, local.single_action_space.n, size=local.num_envs)  # type: ignore[attr-defined]
        expected = local.step(actions)
        got = remote.step(actions)
        assert data_equivalence(got, expected, exact=True), (got[4], expected[4])
        done = expected[2] | expected[3]
        if mode is AutoresetMode.DISABLED and done.any():
            options = {"reset_mask": done}
            assert data_equivalence(remote.reset(options=options), local.reset(options=options), exact=True)


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda mode: mode.name)
@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize("env", ENVS)
def test_infos_equal_sync_vector_env_for_every_split(
    servers: dict[int, EnvServer], env: str, layout: str, mode: AutoresetMode
) -> None:
    """Observations, rewards, flags and infos equal SyncVectorEnv's exactly, for every split and autoreset mode."""
    sizes, workers = LAYOUTS[layout]
    address = [servers[workers].address] * len(sizes)
    num_envs = sum(sizes)
    local = SyncVectorEnv([lambda: gym.make(ENVS[env]) for _ in range(num_envs)], autoreset_mode=mode)
    try:
        with RemoteVectorEnv(env, sizes, address=address, autoreset_mode=mode) as remote:
            _step_both(local, remote, mode, seed=7)
    finally:
        local.close()
