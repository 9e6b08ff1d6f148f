"""Code written for remote-gym 0.7.x runs unchanged: entrypoint files, server factory, client arguments."""

from __future__ import annotations

import pathlib
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest

from remote_gym import RemoteEnvironment, create_remote_environment_server
from remote_gym.server.server import EnvServer

pytestmark = pytest.mark.integration

ENTRYPOINT = textwrap.dedent(
    """
    import gymnasium as gym

    CALLS = []

    class LevelEnv(gym.Wrapper):
        def __init__(self, env, level, env_id, enable_rendering):
            super().__init__(env)
            self.level = level
            self.env_id = env_id
            self.enable_rendering = enable_rendering

        def reset(self, **kwargs):
            obs, info = self.env.reset(**kwargs)
            info = dict(info, level=self.level, env_id=self.env_id, rendering=self.enable_rendering)
            return obs, info

    def create_environment(enable_rendering: bool, env_id: int, **kwargs) -> gym.Env:
        render_mode = "rgb_array" if enable_rendering else None
        return LevelEnv(gym.make("CartPole-v1", render_mode=render_mode), kwargs["level"], env_id, enable_rendering)
    """
)


@pytest.fixture(scope="module")
def entry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    """A server started the 0.7.x way, hosting an entrypoint file with a default kwarg."""
    path = pathlib.Path(tmp_path_factory.mktemp("envs")) / "entrypoint.py"
    path.write_text(ENTRYPOINT)
    server = create_remote_environment_server(
        default_args={"entrypoint": str(path), "entrypoint_kwargs": {"level": 3}},
        url="127.0.0.1",
        port=0,
        server_credentials_paths=None,
    )
    try:
        yield server
    finally:
        server.stop(0.5)


def test_entrypoint_gets_merged_kwargs_and_env_id(entry_server: EnvServer) -> None:
    """create_environment receives the client's allowed kwargs over the operator's, and a unique env_id."""
    with RemoteEnvironment(url="127.0.0.1", port=entry_server.port) as a:
        _, info_a = a.reset(seed=0)
    with RemoteEnvironment(
        url="127.0.0.1", port=entry_server.port, remote_args={"entrypoint_kwargs": {"level": 5}}
    ) as b:
        _, info_b = b.reset(seed=0)
    assert info_a["level"] == 3
    assert info_b["level"] == 5
    assert info_a["env_id"] != info_b["env_id"]
    assert info_a["rendering"] is False


def test_render_mode_enables_rendering(entry_server: EnvServer) -> None:
    """A client asking for rgb_array makes the server call create_environment(enable_rendering=True)."""
    with RemoteEnvironment(url="127.0.0.1", port=entry_server.port, render_mode="rgb_array") as env:
        _, info = env.reset(seed=0)
        frame = env.render()
    assert info["rendering"] is True
    assert isinstance(frame, np.ndarray)
    assert frame.shape == (400, 600, 3)


def test_server_object_lifecycle(tmp_path: pathlib.Path) -> None:
    """The server object exposes port, stops idempotently and works as a context manager."""
    with create_remote_environment_server(default_args={"env_id": "CartPole-v1"}, port=0) as server:
        assert server.port > 0
        with RemoteEnvironment(port=server.port) as env:
            assert env.reset(seed=0)[0].shape == (4,)
    assert server.wait_for_termination(timeout=0.1)
    server.stop()
