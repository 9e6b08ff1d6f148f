"""A lane's call deadline holds when the worker's side goes silent (before its reply, or in the middle of it); its ports."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from remote_gym.client.lane import Lane
from remote_gym.errors import DeadlineExceededError
from remote_gym.server.handlers.lane_admit import listen_tcp
from remote_gym.wire.frames import encode_header
from remote_gym.wire.handshake import HelloReader, encode_accepted

SECRET = bytes(range(32))


@contextlib.contextmanager
def stalling_peer(reply_bytes: int) -> Iterator[str]:
    """A loopback peer that admits the lane, then answers a request with ``reply_bytes`` of a 1 MB reply and stalls."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            hello = HelloReader()
            while hello.feed(conn.recv(hello.missing())) is None:
                pass
            conn.sendall(encode_accepted())
            conn.recv(65536)  # the request
            if reply_bytes:
                conn.sendall((encode_header(1 << 20, 1) + bytes(1 << 20))[:reply_bytes])
            done.wait(10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("reply_bytes", [0, 4, 200_000], ids=["no-reply", "half-a-header", "mid-reply"])
def test_the_deadline_holds(reply_bytes: int) -> None:
    with stalling_peer(reply_bytes) as path:
        lane = Lane.open(path, SECRET, 5.0)
        assert lane is not None
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            lane.roundtrip(b"request", 0.3)
        assert 0.25 < time.monotonic() - start < 2.0
        lane.close()


def test_a_worker_takes_the_first_free_port_of_its_range_or_none() -> None:
    """Workers share the operator's port range; with every port of it taken, a worker has no lane."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            listen_tcp("127.0.0.1", range(port, port + 1))
        with listen_tcp("127.0.0.1", range(port, min(port + 50, 65536))) as listener:
            assert port < listener.getsockname()[1] < port + 50
