"""The same-host lane: when it is used, who may open it, and that a broken lane loses or repeats nothing."""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym.client.config import ClientConfig
from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.info import server_info
from remote_gym.client.lane import Lane
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from remote_gym.wire.handshake import encode_hello
from tests.conftest import local_make

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

_NOBODY = 65534


@pytest.fixture(scope="module")
def lane_server() -> Iterator[EnvServer]:
    """A loopback server with worker processes, offering lanes (the default)."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", grace=0.2) as server:
        yield server


def _offer(env: RemoteEnvironment) -> tuple[str, bytes]:
    """The lane path and secret the server offered ``env`` in its MakeResponse."""
    return env._connection._lane_offer  # type: ignore[union-attr]


def _lane_socket(env: RemoteEnvironment) -> socket.socket:
    lane = env._connection._lane.lane  # type: ignore[union-attr]
    assert lane is not None
    return lane._sock


def _present(path: str, secret: bytes) -> bytes:
    """Connect to a lane, present ``secret``, and return what the worker answers (b"" if it hung up)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        sock.connect(path)
        sock.sendall(encode_hello(secret))
        return sock.recv(64)


def _same_trajectory(remote: Any, local: Any, steps: int, *, break_at: int, how: int) -> None:
    assert data_equivalence(remote.reset(seed=3), local.reset(seed=3), exact=True)
    for i in range(steps):
        if i == break_at:
            _lane_socket(remote).shutdown(how)
        action = i % 2
        remote_step, local_step = remote.step(action), local.step(action)
        assert data_equivalence(remote_step, local_step, exact=True), f"step {i}"
        if remote_step[2] or remote_step[3]:
            assert data_equivalence(remote.reset(seed=i), local.reset(seed=i), exact=True)


def test_local_client_uses_the_lane_and_says_so(lane_server: EnvServer) -> None:
    """A loopback client is offered the lane and uses it; server_info() and the repr say so."""
    assert server_info(lane_server.address).same_host_lane
    with RemoteEnvironment(address=lane_server.address) as env:
        assert "path=lane" in repr(env)
        env.reset(seed=0)
        assert env.step(0)[0].shape == (4,)


def test_opt_outs_keep_everything_on_grpc(lane_server: EnvServer) -> None:
    """ClientConfig(same_host_lane=False), or a server with same_host_lane=False, keeps requests on gRPC."""
    with RemoteEnvironment(address=lane_server.address, config=ClientConfig(same_host_lane=False)) as env:
        assert "path=grpc" in repr(env)
        env.reset(seed=0)
    with running_server(hosting="process", same_host_lane=False) as server:
        assert not server_info(server.address).same_host_lane
        with RemoteEnvironment(address=server.address) as env:
            assert "path=grpc" in repr(env)
            assert not _offer(env)[0]


def test_vector_session_uses_the_lane(lane_server: EnvServer) -> None:
    """A vector session on the same host steps over its lane, with the local vector env's results."""
    with RemoteVectorEnv("CartPole-v1", 4, address=lane_server.address) as envs:
        assert all(host.connection.path == "lane" for host in envs._hosts)
        envs.reset(seed=0)
        obs, *_ = envs.step(np.zeros(4, dtype=np.int64))
        assert obs.shape == (4, 4)


@pytest.mark.parametrize("how", [socket.SHUT_RDWR, socket.SHUT_RD], ids=["request-lost", "reply-lost"])
def test_broken_lane_falls_back_with_the_local_trajectory(lane_server: EnvServer, how: int) -> None:
    """A lane that breaks mid-episode (before a request, or after it was applied) goes on through gRPC exactly once."""
    with RemoteEnvironment(address=lane_server.address) as remote:
        local = local_make("CartPole-v1")
        _same_trajectory(remote, local, 40, break_at=17, how=how)
        assert "path=grpc" in repr(remote)
        local.close()


def test_wrong_or_replayed_secret_is_refused_and_logged(capfd: pytest.CaptureFixture[str]) -> None:
    """The lane refuses a wrong secret and a second use of the right one, and the worker logs both."""
    with (
        running_server(hosting="process", grace=0.2) as server,
        RemoteEnvironment(address=server.address, config=ClientConfig(same_host_lane=False)) as env,
    ):
        path, secret = _offer(env)
        assert _present(path, b"x" * len(secret)) == b""
        lane = Lane.open(path, secret, 5.0)  # the right secret, first use: accepted
        assert lane is not None
        assert _present(path, secret) == b""  # a replay of it: refused
        lane.close()
        env.reset(seed=0)  # the session itself is unharmed
    err = capfd.readouterr().err
    assert "lane connection refused (wrong secret)" in err
    assert "lane connection refused (its secret was used already)" in err


@pytest.mark.skipif(
    not hasattr(os, "setuid") or os.geteuid() != 0, reason="needs root to act as another user"
)
def test_another_user_cannot_connect(lane_server: EnvServer) -> None:
    """Another local user can neither reach the lane's directory nor, given access, pass the peer check."""
    with RemoteEnvironment(address=lane_server.address, config=ClientConfig(same_host_lane=False)) as env:
        path, secret = _offer(env)
        assert _as_nobody(path, secret) == "denied"
        directory = os.path.dirname(path)
        os.chmod(directory, 0o755)
        os.chmod(path, 0o777)
        try:
            assert _as_nobody(path, secret) == "refused"
        finally:
            os.chmod(directory, 0o700)
        lane = Lane.open(path, secret, 5.0)  # the secret was not spent by the refused peer
        assert lane is not None
        lane.close()


_TRY_AS_NOBODY = """
import os, socket, struct, sys
os.setgid(int(sys.argv[3]))
os.setuid(int(sys.argv[3]))
secret = bytes.fromhex(sys.argv[2])
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        sock.connect(sys.argv[1])
        sock.sendall(struct.pack("<II", len(secret), 0) + secret)  # the lane's hello, by hand
        print("accepted" if sock.recv(64) else "refused")
except PermissionError:
    print("denied")
except ConnectionError:
    print("refused")
"""


def _as_nobody(path: str, secret: bytes) -> str:
    """Try the lane from a process running as user nobody: "denied", "refused" or "accepted"."""
    result = subprocess.run(
        [sys.executable, "-c", _TRY_AS_NOBODY, path, secret.hex(), str(_NOBODY)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout.strip() or result.stderr


def test_offer_is_a_private_path_and_a_long_secret(lane_server: EnvServer) -> None:
    """The MakeResponse offers a socket in a directory only the server's user can enter, and a 32-byte secret."""
    with RemoteEnvironment(address=lane_server.address) as env:
        path, secret = _offer(env)
        assert len(secret) == 32
        assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700


def test_a_unix_socket_address_works_and_gets_the_lane(tmp_path: pathlib.Path) -> None:
    """A server bound to ``unix:PATH`` serves clients that connect there, and offers them the lane."""
    address = f"unix:{tmp_path / 'gym.sock'}"
    with running_server(hosting="process", host=address, grace=0.2) as server:
        assert server.address == address
        assert server_info(address).same_host_lane
        with RemoteEnvironment(address=address) as env:
            assert "path=lane" in repr(env)
            local = local_make("CartPole-v1")
            assert data_equivalence(env.reset(seed=1), local.reset(seed=1), exact=True)
            assert data_equivalence(env.step(0), local.step(0), exact=True)
            local.close()


def _thread_switches(native_id: int) -> int:
    """Context switches of one thread of this process so far (Linux /proc)."""
    fields = dict(
        line.split(":\t")
        for line in pathlib.Path(f"/proc/self/task/{native_id}/status").read_text().splitlines()
        if ":\t" in line
    )
    return int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"])


@pytest.mark.skipif(not pathlib.Path("/proc/self/task").is_dir(), reason="counts thread switches in /proc")
def test_an_in_process_server_sleeps_while_its_session_steps_on_the_lane() -> None:
    """A server started in the trainer's process is not woken by lane steps: its thread stays asleep."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", grace=0.2) as server:
        thread = server._thread  # type: ignore[attr-defined]
        assert thread is not None
        assert thread.native_id is not None
        with RemoteEnvironment(address=server.address) as env:
            env.reset(seed=0)
            assert env._connection._lane.path == "lane"  # type: ignore[union-attr]
            before = _thread_switches(thread.native_id)
            for i in range(3000):
                _, _, terminated, truncated, _ = env.step(i % 2)
                if terminated or truncated:
                    env.reset()
            woken = _thread_switches(thread.native_id) - before
    assert woken <= 10, f"the server's thread woke {woken} times during 3000 lane steps"
