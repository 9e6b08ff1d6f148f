"""The server describes itself without a session, and a restarted server is reported, never hidden."""

from __future__ import annotations

import pytest

from remote_gym import (
    ClientConfig,
    RemoteEnvironment,
    Timeouts,
    __version__,
    create_remote_environment_server,
)
from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.client.info import server_info
from remote_gym.errors import ConnectionLostError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from tests.conftest import hosted_environments

pytestmark = pytest.mark.integration


def test_server_info_without_a_session(same_host_lane: bool) -> None:
    """server_info() reports versions, hosted environments and capacity, and opens no session.

    On a server of its own: the shared test server may still be closing other tests' sessions.
    """
    with running_server(hosted_environments(), hosting="process", same_host_lane=same_host_lane) as server:
        before = server.active_sessions
        info = server_info(server.address)
        assert info.server_version == __version__
        assert info.protocol_version == PROTOCOL_VERSION
        names = [e.name for e in info.environments]
        assert names[0] == "CartPole-v1"
        assert info.environments[0].is_default
        assert "DictSpaces" in names
        assert info.hosting == "process"
        assert info.max_sessions == server.config.max_sessions
        assert server.active_sessions == before


def test_server_restart_is_reported_as_connection_lost() -> None:
    """After the server restarts on the same port, the old session raises ConnectionLostError; a new one works."""
    config = ClientConfig(resume_s=5.0, timeouts=Timeouts(connect=5, call=5))
    with running_server(hosting="inline") as first:
        port = first.port
        env = RemoteEnvironment(url="127.0.0.1", port=port, config=config)
        env.reset(seed=0)
    try:
        with _server_on(port):
            with pytest.raises(ConnectionLostError, match="cannot go on"):
                env.step(0)
            with RemoteEnvironment(url="127.0.0.1", port=port) as fresh:
                assert fresh.reset(seed=0)[0].shape == (4,)
    finally:
        env.close()


def _server_on(port: int) -> EnvServer:
    return create_remote_environment_server(
        default_args={"env_id": "CartPole-v1"}, port=port, hosting="inline"
    )
