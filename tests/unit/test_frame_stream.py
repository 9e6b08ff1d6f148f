"""FrameStream over real loopback TCP connections: frames both ways, the hello, limits, polling."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from remote_gym.transport.frame_stream import FrameStream
from remote_gym.wire.frames import FrameDecoder, encode_frame
from remote_gym.wire.handshake import encode_hello


async def _connected(limit: int = 1 << 20) -> tuple[FrameStream, socket.socket]:
    """A FrameStream (this loop's side) connected to a plain blocking socket (the peer's side)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    _, stream = await asyncio.get_running_loop().create_connection(
        lambda: FrameStream(limit), "127.0.0.1", port
    )
    peer, _ = listener.accept()
    listener.close()
    return stream, peer


def _read_frames(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    decoder, frames = FrameDecoder(), []
    while len(frames) < count:
        frames += decoder.feed(sock.recv(65536))
    return frames


def test_frames_cross_both_ways_numbered_from_1_after_the_hello() -> None:
    async def run() -> None:
        stream, peer = await _connected()
        stream.send_hello(b"carry-id")
        await stream.write(b"first")
        await stream.write(b"")  # an empty message is a frame too
        assert _read_frames(peer, 3) == [(0, b"carry-id"), (1, b"first"), (2, b"")]
        peer.sendall(encode_frame(b"reply", 1) + encode_frame(b"x" * 100_000, 2))
        assert await stream.read() == b"reply"
        assert await stream.read() == b"x" * 100_000
        peer.close()
        assert await stream.read() is None  # the peer's end
        with pytest.raises(ConnectionResetError):
            await stream.write(b"late")

    asyncio.run(run())


def test_an_oversized_frame_ends_the_stream() -> None:
    async def run() -> None:
        stream, peer = await _connected(limit=1000)
        peer.sendall(encode_frame(b"y" * 1001))
        assert await stream.read() is None
        assert stream.closed.is_set()
        peer.close()

    asyncio.run(run())


def test_the_hello_is_held_to_its_own_limit_and_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from remote_gym.transport import frame_stream

    monkeypatch.setattr(frame_stream, "HELLO_TIMEOUT_S", 0.2)

    async def run() -> None:
        stream, peer = await _connected()
        stream.expect_hello()
        peer.sendall(encode_hello(b"z" * 300))  # over HELLO_MAX_BYTES
        assert await stream.read_hello() is None
        peer.close()
        stream, peer = await _connected()
        stream.expect_hello()
        start = time.monotonic()
        assert await stream.read_hello() is None  # nothing sent
        assert 0.15 < time.monotonic() - start < 2
        stream.abort()
        peer.close()
        stream, peer = await _connected(limit=10)
        stream.expect_hello()
        peer.sendall(encode_hello(b"id") + encode_frame(b"big message", 1))
        assert await stream.read_hello() == b"id"
        assert await stream.read() is None  # after the hello, the stream's own limit holds
        peer.close()

    asyncio.run(run())


def test_poll_takes_a_frame_from_the_socket_within_its_budget_and_gives_up_after_it() -> None:
    async def run() -> None:
        stream, peer = await _connected()
        stream.gate.reset(0.05)
        start = time.perf_counter()
        assert stream.poll() is None  # nothing comes: returns after the budget
        assert 0.04 < time.perf_counter() - start < 1
        stream.gate.reset(0.5)
        timer = threading.Timer(0.01, peer.sendall, (encode_frame(b"soon", 1),))
        timer.start()
        assert stream.poll() == b"soon"
        assert stream.polled == 1
        timer.join()
        stream.gate.reset(0.0)  # no budget: poll never reads
        peer.sendall(encode_frame(b"later", 2))
        assert stream.poll() is None
        assert await stream.read_soon() == b"later"
        peer.close()

    asyncio.run(run())
