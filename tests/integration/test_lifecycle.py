"""Server limits and endings: graceful shutdown, idle expiry, slow calls, session and env limits."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from remote_gym import RemoteEnvironment, Timeouts, server_info
from remote_gym.errors import (
    ConnectionLostError,
    ServerBusyError,
    ServerShutdownError,
    SessionExpiredError,
    TransportError,
    WorkerCrashedError,
)
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from tests.conftest import hosting_for

pytestmark = pytest.mark.integration


def test_shutdown_ends_sessions_with_a_clear_error(same_host_lane: bool) -> None:
    """During stop(grace) the next call of an open session raises ServerShutdownError."""
    with running_server(hosting=hosting_for(same_host_lane), grace=3.0) as server:
        env = RemoteEnvironment(address=server.address)
        env.reset(seed=0)
        stopper = threading.Thread(target=server.stop, kwargs={"grace": 3.0})
        stopper.start()
        try:
            time.sleep(0.3)
            with pytest.raises(ServerShutdownError, match="shutting down"):
                env.step(0)
            with pytest.raises(ConnectionLostError):
                env.step(0)
        finally:
            stopper.join()
            env.close()


def test_session_after_shutdown_is_connection_lost() -> None:
    """A session idle through the whole shutdown raises ConnectionLostError at its next call."""
    with running_server(hosting="inline", grace=0.2) as server:
        env = RemoteEnvironment(address=server.address)
        env.reset(seed=0)
    try:
        with pytest.raises(ConnectionLostError):
            env.step(0)
    finally:
        env.close()


def test_in_flight_step_finishes_during_shutdown(same_host_lane: bool) -> None:
    """A step already running when stop() is called completes; only the next call fails."""
    hosted = {"Hanging": {"gym_id": IMPORTABLE_ENV_IDS["Hanging"], "allowed_kwargs": "*"}}
    with running_server(hosted, hosting="process", grace=5.0, same_host_lane=same_host_lane) as server:
        env = RemoteEnvironment(address=server.address, kwargs={"hang_s": 1.0})
        env.reset(seed=0)
        stopper = threading.Timer(0.3, server.stop, kwargs={"grace": 5.0})
        stopper.start()
        try:
            obs, *_ = env.step(1)  # sleeps 1 s on the server; stop() arrives meanwhile
            assert obs.shape == (4,)
            with pytest.raises(ServerShutdownError):
                env.step(0)
        finally:
            stopper.join()
            env.close()


def test_idle_session_expires(same_host_lane: bool) -> None:
    """A session idle past session_idle_timeout_s is ended with SessionExpiredError; its slot is freed."""
    with running_server(hosting=hosting_for(same_host_lane), session_idle_timeout_s=0.3) as server:
        with RemoteEnvironment(address=server.address) as env:
            env.reset(seed=0)
            time.sleep(1.0)
            with pytest.raises(SessionExpiredError, match="idle"):
                env.step(0)
        assert server.active_sessions == 0


def test_busy_session_does_not_expire(same_host_lane: bool) -> None:
    """A session that keeps stepping is never expired by the idle timeout."""
    with (
        running_server(hosting=hosting_for(same_host_lane), session_idle_timeout_s=0.3) as server,
        RemoteEnvironment(address=server.address) as env,
    ):
        env.reset(seed=0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                env.reset()
            time.sleep(0.05)


def test_slow_call_kills_the_worker(same_host_lane: bool) -> None:
    """A call longer than max_call_s stops the worker and the client gets WorkerCrashedError saying why."""
    hosted = {"Hanging": {"gym_id": IMPORTABLE_ENV_IDS["Hanging"], "allowed_kwargs": "*"}}
    with (
        running_server(hosted, hosting="process", max_call_s=0.3, same_host_lane=same_host_lane) as server,
        RemoteEnvironment(address=server.address, kwargs={"hang_s": 30.0}, timeouts=Timeouts(call=10)) as env,
    ):
        env.reset(seed=0)
        start = time.monotonic()
        with pytest.raises(WorkerCrashedError, match="max_call_s"):
            env.step(1)
        assert time.monotonic() - start < 5.0


def test_max_sessions_is_enforced() -> None:
    """Sessions beyond max_sessions are refused with ServerBusyError; closing one frees a slot."""
    with running_server(hosting="inline", max_sessions=2) as server:
        first = RemoteEnvironment(address=server.address)
        second = RemoteEnvironment(address=server.address)
        try:
            with pytest.raises(ServerBusyError, match="max_sessions"):
                RemoteEnvironment(address=server.address)
            first.close()
            deadline = time.monotonic() + 5
            while server.active_sessions > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            RemoteEnvironment(address=server.address).close()
        finally:
            first.close()
            second.close()


def test_stop_is_idempotent_and_releases_the_port() -> None:
    """stop() twice is fine, and the port is free again afterwards."""
    with running_server(hosting="inline") as server:
        port = server.port
    server.stop()
    server.stop(0)
    with pytest.raises(TransportError):
        RemoteEnvironment(url="127.0.0.1", port=port, timeouts=Timeouts(connect=0.5))


_OPEN_CLOSE_SCRIPT = """
import asyncio
from remote_gym import RemoteEnvironment
from remote_gym.testing.server import running_server
from tests.conftest import hosting_for

async def elsewhere():
    return 1

with running_server(hosting="inline") as server:
    for i in range(4):
        with RemoteEnvironment(address=server.address) as env:
            env.reset(seed=i)
            env.step(0)
    asyncio.run(elsewhere())  # the user's own event loops come and go in between
    for i in range(3):
        env = RemoteEnvironment(address=server.address)
        env.reset(seed=i)
        env.close()
print("done")
"""


def test_opening_and_closing_many_envs_prints_nothing() -> None:
    """Clients that come and go leave no 'Event loop is closed' or pending-task noise on stderr."""
    result = subprocess.run(
        [sys.executable, "-c", _OPEN_CLOSE_SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert "Event loop is closed" not in result.stderr
    assert "Task was destroyed" not in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_sessions_are_freed_at_once_not_kept_for_a_resume() -> None:
    """A client's close() ends its session immediately, however its stream then ends."""
    with running_server(hosting="process", resume_window_s=30.0) as server:
        for i in range(20):
            with RemoteEnvironment(address=server.address) as env:
                env.reset(seed=i)
                env.step(0)
        # The server ends a closed session in the background: within moments, not the 30 s resume window.
        deadline = time.monotonic() + 3.0
        while server_info(server.address).active_sessions and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server_info(server.address).active_sessions == 0
