"""A TCP (or TLS) connection of wire frames, read and written from an asyncio event loop.

The hub and the hosts that dial it carry each routed session on one of these instead of a second gRPC
stream: a frame is a session message as the bytes gRPC would have carried (:mod:`remote_gym.wire.frames`
gives the header), so the hop costs a socket write and a read, not HTTP/2 and gRPC's threads on both
ends. The side that opens the connection first sends a hello (:mod:`remote_gym.wire.handshake`) with
the one-time id it was given over its authenticated gRPC stream; the accepting side reads it within
a deadline and hands the stream on. Each side numbers the frames it sends from 1 (the numbers help a
reader of a packet capture; the stream's order pairs requests with replies).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from collections.abc import Callable

from remote_gym.transport.reads import KeptBufferReads
from remote_gym.wire.frames import (
    HEADER_BYTES,
    READ_BYTES,
    FrameDecoder,
    FrameTooLargeError,
    Numbering,
    frame_parts,
)
from remote_gym.wire.handshake import HELLO_MAX_BYTES, encode_hello
from remote_gym.wire.polling import PollGate, spin

logger = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 5.0
"""Seconds an accepted connection has to present its hello before it is closed."""


class FrameStream(KeptBufferReads):
    """One connection's frames: :meth:`read` the next payload (None once the stream ended), :meth:`write` one.

    Writes go to the transport's buffer at once (a session's messages alternate, so at most one
    message waits there). A frame over ``max_frame_bytes`` ends the stream.
    """

    def __init__(self, max_frame_bytes: int) -> None:
        super().__init__()
        self._limit = max_frame_bytes
        self._decoder = FrameDecoder(max_frame_bytes)
        self._hello_pending = False
        self._frames: collections.deque[bytes] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._numbering = Numbering()
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.Event()
        """Set once the connection is gone (either side closed it, or it broke)."""
        self.on_open: Callable[[FrameStream], None] | None = None
        """Called when the connection is made (the accepting side then reads the hello)."""
        self.gate = PollGate()
        """Whether :meth:`poll` is worth it: the peer lately answered within the budget."""
        self._fd = -1
        """The socket's descriptor, read by :meth:`poll` (-1: never; only plain TCP on POSIX)."""
        self.polled = 0
        """Frames :meth:`poll` got (each a wake-up of the event loop saved)."""

    def expect_hello(self) -> None:
        """Take the first frame as a hello (at most ``HELLO_MAX_BYTES``): :meth:`read_hello` returns it."""
        self._decoder.max_frame_bytes = HELLO_MAX_BYTES
        self._hello_pending = True

    # asyncio.BufferedProtocol (reads: KeptBufferReads)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if transport.get_extra_info("sslcontext") is None and sock is not None and os.name == "posix":
            self._fd = sock.fileno()  # a TLS stream's bytes are the transport's to decrypt
        if self.on_open is not None:
            self.on_open(self)

    def data_received(self, data: bytes | memoryview) -> None:
        try:
            if self._hello_pending:
                data = self._take_hello(data)
            frames = self._decoder.feed(data) if data else []
        except FrameTooLargeError as exc:
            logger.warning("closed a frame stream from %s: %s", self.peer(), exc)
            self.abort()
            return
        for _, payload in frames:
            self._frames.append(payload)
        waiter = self._waiter
        if self._frames and waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _take_hello(self, data: bytes | memoryview) -> bytes | memoryview:
        """Decode the hello from the start of ``data`` under its own limit; the bytes after it."""
        decoder = self._decoder
        while data:
            need = decoder.missing() or HEADER_BYTES
            frames = decoder.feed(data[:need])
            data = data[need:]
            if frames:
                self._frames.append(frames[0][1])
                self._hello_pending = False
                decoder.max_frame_bytes = self._limit
                break
        return data

    def eof_received(self) -> bool | None:
        self._ended()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended()

    def _ended(self) -> None:
        self.closed.set()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # use

    def peer(self) -> str:
        """The other end's address as ``host:port`` ("?" when unknown)."""
        name = self.transport.get_extra_info("peername") if self.transport is not None else None
        return f"{name[0]}:{name[1]}" if isinstance(name, tuple) else "?"

    async def read(self) -> bytes | None:
        """The next frame's payload; None once the stream has ended."""
        frames = self._frames
        while not frames:
            if self.closed.is_set():
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return frames.popleft()

    def poll(self) -> bytes | None:
        """The next payload if it comes within the gate's budget, read from the socket in this call
        (the event loop, which would wake up for it ~20-40 µs later, waits meanwhile); else None (then
        :meth:`read`). Only on a plain TCP stream, and only while the peer lately answered in time."""
        if self._frames:
            return self._frames.popleft()
        fd, gate = self._fd, self.gate
        if fd < 0 or not gate.worth_it() or self.closed.is_set():
            return None
        start = time.perf_counter()

        def probe() -> bool | None:
            try:
                data = os.read(fd, READ_BYTES)  # non-blocking: the event loop made the socket so
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                return False  # the transport will see it too
            if not data:
                return False
            self.data_received(data)
            return True if self._frames else None

        got = spin(probe, gate.budget_s)
        gate.note(time.perf_counter() - start)
        if got and self._frames:
            self.polled += 1
            return self._frames.popleft()
        return None

    async def read_soon(self) -> bytes | None:
        """:meth:`poll`, then :meth:`read` if nothing came in time (that wait, too, goes into the gate)."""
        start = time.perf_counter()
        payload = self.poll()
        if payload is None:
            payload = await self.read()
            self.gate.note(time.perf_counter() - start)
        return payload

    async def read_hello(self) -> bytes | None:
        """The hello (the first frame), then frames up to ``max_frame_bytes``; None if none came within
        :data:`HELLO_TIMEOUT_S` (or the stream ended first)."""
        try:
            return await asyncio.wait_for(self.read(), HELLO_TIMEOUT_S)
        except asyncio.TimeoutError:
            return None

    async def write(self, payload: bytes) -> None:
        """Send one frame (an async method, as the gRPC stream's it stands in for).

        Raises:
            ConnectionResetError: The stream has ended.
        """
        transport = self.transport
        if transport is None or self.closed.is_set() or transport.is_closing():
            raise ConnectionResetError("the frame stream has ended")
        transport.writelines(frame_parts(payload, self._numbering.next()))

    def send_hello(self, secret: bytes) -> None:
        """Present ``secret`` as this stream's first frame."""
        assert self.transport is not None
        self.transport.write(encode_hello(secret))

    def close(self) -> None:
        """Close after sending what is buffered."""
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now."""
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.abort()
        self._ended()
