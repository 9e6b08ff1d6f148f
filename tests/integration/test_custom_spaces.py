"""An env whose spaces have no codec is still served: the client sees RemoteSpaces that sample on the server."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.codec.remote_space import RemoteSpace
from remote_gym.server.server import EnvServer
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from tests.conftest import local_make

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def custom_server() -> EnvServer:
    """A server hosting the env with custom spaces (no codec registered anywhere)."""
    with running_server({"CustomSpace": IMPORTABLE_ENV_IDS["CustomSpace"]}, grace=0.5) as server:
        yield server  # type: ignore[misc]


def test_remote_env_with_custom_spaces_passes_check_env(custom_server: EnvServer) -> None:
    """check_env passes on the remote env: RemoteSpace.sample() asks the server's space."""
    with RemoteEnvironment(address=custom_server.address, env="CustomSpace") as remote:
        assert isinstance(remote.action_space, RemoteSpace)
        assert isinstance(remote.observation_space["colour"], RemoteSpace)
        assert remote.action_space.sample() in ("red", "green")
        check_env(remote, skip_render_check=True)


def test_remote_env_with_custom_spaces_matches_local(custom_server: EnvServer) -> None:
    """Observations and rewards of custom spaces travel exactly, step by step."""
    local = local_make("CustomSpace")
    try:
        with RemoteEnvironment(address=custom_server.address, env="CustomSpace") as remote:
            assert data_equivalence(remote.reset(seed=5), local.reset(seed=5), exact=True)
            for action in ["red", "green", "green", "red"]:
                assert data_equivalence(remote.step(action), local.step(action), exact=True)
    finally:
        local.close()


def test_vector_env_over_two_servers_agrees_on_remote_spaces(custom_server: EnvServer) -> None:
    """Two servers' RemoteSpaces compare equal, and a vector env over both samples and steps."""
    address = [custom_server.address] * 2
    with RemoteVectorEnv("CustomSpace", 2, address=address) as envs:
        obs, _ = envs.reset(seed=1)
        assert isinstance(envs.single_action_space, RemoteSpace)
        actions = envs.action_space.sample()
        assert len(actions) == 2
        obs, rewards, _, _, _ = envs.step(actions)
        assert rewards.dtype == np.float64
        assert len(obs["colour"]) == 2
