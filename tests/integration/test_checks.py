"""check_remote_env() accepts a faithful remote env and rejects one that differs."""

from __future__ import annotations

import gymnasium as gym
import pytest

from remote_gym import RemoteEnvironment
from remote_gym.server.server import EnvServer
from remote_gym.testing.checks import check_remote_env

pytestmark = pytest.mark.integration


def test_faithful_remote_env_passes(env_server: EnvServer) -> None:
    """A remote CartPole passes against a local CartPole, rendering included."""
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1", render_mode="rgb_array") as remote:
        check_remote_env(remote, lambda: gym.make("CartPole-v1", render_mode="rgb_array"), num_steps=50)


def test_different_env_fails(env_server: EnvServer) -> None:
    """A remote Acrobot compared with a local CartPole is caught."""
    with (
        RemoteEnvironment(address=env_server.address, env="Acrobot-v1") as remote,
        pytest.raises(AssertionError),
    ):
        check_remote_env(remote, lambda: gym.make("CartPole-v1"), num_steps=10)
