"""The compatibility matrix: environments of popular suites, served remotely, equal their local selves.

Every row runs Gymnasium's ``check_env`` on the remote env and ``check_environments_match`` against
the local env (observations, rewards, flags, infos by equivalence, rendered ``rgb_array`` frames),
through :func:`remote_gym.testing.checks.check_remote_env`. Suites not installed are skipped: the
dev group has MiniGrid and flappy-bird-gymnasium; ``uv sync --extra suites`` adds ALE, Box2D,
MuJoCo and Gymnasium-Robotics.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import pytest

from remote_gym import RemoteEnvironment
from remote_gym.server.server import EnvServer
from remote_gym.testing.checks import check_remote_env
from remote_gym.testing.server import running_server

# Headless rendering: pygame without a display, MuJoCo through EGL. Set before any worker starts.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    # Box2D's SWIG bindings warn while importing; turned into an error, the import crashes.
    pytest.mark.filterwarnings("ignore:builtin type .* has no __module__ attribute:DeprecationWarning"),
    # MuJoCo's compiler warns about models that Gymnasium's MuJoCo envs ship.
    pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning"),
]


@dataclass(frozen=True)
class Row:
    """One row of the matrix: a suite's env, the module that must import for it, how long to step it."""

    suite: str
    env_id: str
    module: str
    steps: int = 100
    kwargs: tuple[tuple[str, Any], ...] = ()
    render: bool = True
    """Whether frames are compared (render_mode="rgb_array")."""
    human_window: bool = True
    """Whether check_env may open the env in "human" mode here (MuJoCo's needs a display: skipped)."""


ROWS = (
    Row("classic control", "CartPole-v1", "pygame"),
    Row("classic control", "Acrobot-v1", "pygame"),
    Row("classic control", "MountainCarContinuous-v0", "pygame"),
    Row("classic control", "Pendulum-v1", "pygame"),
    Row("toy text", "FrozenLake-v1", "pygame"),
    Row("toy text", "Taxi-v4", "pygame"),
    Row("toy text", "Blackjack-v1", "pygame"),
    Row("toy text", "CliffWalking-v1", "pygame"),
    Row("Box2D", "LunarLander-v3", "Box2D"),
    Row("Box2D", "BipedalWalker-v3", "Box2D"),
    Row("Box2D", "CarRacing-v3", "Box2D", steps=50),
    Row("MuJoCo", "HalfCheetah-v5", "mujoco", steps=50, human_window=False),
    Row("MuJoCo", "Hopper-v5", "mujoco", steps=50, human_window=False),
    Row("ALE", "ale_py:ALE/Pong-v5", "ale_py", steps=50),
    Row("MiniGrid", "minigrid:MiniGrid-Empty-5x5-v0", "minigrid"),
    Row("MiniGrid", "minigrid:MiniGrid-Fetch-5x5-N2-v0", "minigrid"),
    Row("MiniGrid (BabyAI)", "minigrid:BabyAI-GoToRedBallGrey-v0", "minigrid"),
    # With LIDAR (the default) its observations leave its own observation space: check_env fails
    # locally. Its wing animation cycles on from construction (reset does not restart it): frames
    # match a fresh local env's only while the remote env is fresh too, as check_remote_env has it.
    Row(
        "flappy-bird-gymnasium",
        "flappy_bird_gymnasium:FlappyBird-v0",
        "flappy_bird_gymnasium",
        kwargs=(("use_lidar", False),),
    ),
    Row(
        "Gymnasium-Robotics",
        "gymnasium_robotics:PointMaze_UMaze-v3",
        "gymnasium_robotics",
        steps=50,
        human_window=False,
    ),
)


def _installed(row: Row) -> bool:
    return importlib.util.find_spec(row.module) is not None


@pytest.fixture(scope="module")
def suite_server() -> Iterator[EnvServer]:
    """One server (a worker process per session) hosting every installed row's env."""
    hosted = {
        row.env_id: {"gym_id": row.env_id, "kwargs": dict(row.kwargs)} for row in ROWS if _installed(row)
    }
    with running_server(hosted, hosting="process", grace=0.5) as server:
        yield server


@pytest.mark.parametrize("row", ROWS, ids=[row.env_id.split(":")[-1] for row in ROWS])
def test_suite_env_matches_local(suite_server: EnvServer, row: Row) -> None:
    """check_env passes on the remote env, and it matches the local env step by step, frames included."""
    if not _installed(row):
        pytest.skip(f"{row.suite} is not installed ({row.module}): uv sync --extra suites")
    render_mode = "rgb_array" if row.render else None

    def make_local() -> gym.Env[Any, Any]:
        return gym.make(row.env_id, render_mode=render_mode, **dict(row.kwargs))

    with RemoteEnvironment(address=suite_server.address, env=row.env_id, render_mode=render_mode) as remote:
        local = make_local()
        try:
            assert remote.observation_space == local.observation_space
            assert remote.action_space == local.action_space
        finally:
            local.close()
        check_remote_env(
            remote, make_local, num_steps=row.steps, seed=3, skip_render_check=not row.human_window
        )
