"""Values that cannot travel give typed errors naming where they are; rendering extras fail clearly."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from collections.abc import Iterator

import pytest

from remote_gym import RemoteEnvironment, create_remote_environment_server
from remote_gym.errors import DependencyNotInstalledError, RemoteEnvError, UnsupportedValueError
from remote_gym.server.server import EnvServer

pytestmark = pytest.mark.integration

ENTRYPOINT = textwrap.dedent(
    """
    import gymnasium as gym

    class OpaqueInfo(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, {"stats": {"handle": object()}}

    def create_environment(enable_rendering=False, env_id=0, **kwargs):
        return OpaqueInfo(gym.make("CartPole-v1"))
    """
)


@pytest.fixture(scope="module")
def opaque_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    """A server hosting an env whose step info holds an object with no wire form."""
    path = pathlib.Path(tmp_path_factory.mktemp("opaque")) / "entry.py"
    path.write_text(ENTRYPOINT)
    server = create_remote_environment_server(
        default_args={"entrypoint": str(path)}, port=0, hosting="inline"
    )
    try:
        yield server
    finally:
        server.stop(0.5)


def test_unsendable_info_value_names_key_and_type(opaque_server: EnvServer) -> None:
    """An info entry that cannot be encoded raises a typed error naming its key path and type."""
    with RemoteEnvironment(port=opaque_server.port) as env:
        env.reset(seed=0)
        with pytest.raises(RemoteEnvError, match=r"info\['stats'\]\['handle'\].*object") as info:
            env.step(0)
        assert info.value.remote_type.endswith("UnsupportedValueError")
        env.reset(seed=1)  # the session goes on


def test_unsendable_action_fails_before_sending(env_server: EnvServer) -> None:
    """An action with no wire form raises UnsupportedValueError on the client."""
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)
        with pytest.raises(UnsupportedValueError, match="action"):
            env.step(object())
        assert env.step(0)[0].shape == (4,)


def test_human_render_without_pygame_names_the_extra(
    env_server: EnvServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render_mode="human" without pygame raises DependencyNotInstalledError naming the extra."""
    monkeypatch.setitem(sys.modules, "pygame", None)
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1", render_mode="human") as env:
        env.reset(seed=0)
        with pytest.raises(DependencyNotInstalledError, match=r"remote-gym\[render\]"):
            env.render()
