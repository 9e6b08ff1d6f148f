"""`serve --drain S`: SIGTERM drains the server (new sessions refused, open ones run S s, then end)."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.info import server_info
from remote_gym.errors import ConnectError, ServerDrainingError
from tests.cli.helpers import SERVING
from tests.cli.test_end_to_end import _Server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals a server process"),
]


def _draining(address: str) -> bool:
    try:
        return server_info(address).draining
    except ConnectError:
        return False


def _steps_until_drained(env: RemoteEnvironment) -> int:
    """Steps taken until a step raised ServerDrainingError."""
    steps = 0
    try:
        while True:
            if env.step(0)[2]:
                env.reset()
            steps += 1
    except ServerDrainingError:
        return steps


def test_sigterm_drains_a_server_started_with_drain() -> None:
    """After SIGTERM, new sessions get ServerDrainingError, an open one steps on for the drain period, then
    gets ServerDrainingError, and the server exits with code 0."""
    server = _Server(["serve", "CartPole-v1", "--port", "0", "--drain", "1.5", "--grace", "1"])
    try:
        address = f"127.0.0.1:{int(server.wait_for(SERVING, timeout=60).group(1))}"
        with RemoteEnvironment(address=address) as env:
            env.reset(seed=0)
            server.process.send_signal(signal.SIGTERM)
            start = time.monotonic()
            while not _draining(address):
                assert time.monotonic() - start < 10, "the server never said it drains"
            with pytest.raises(ServerDrainingError, match="draining"):
                RemoteEnvironment(address=address)
            assert _steps_until_drained(env) > 10
            assert 1.0 < time.monotonic() - start < 6.0
        assert server.process.wait(timeout=30) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
        server.text()
        assert server.process.stdout is not None
        server.process.stdout.close()
