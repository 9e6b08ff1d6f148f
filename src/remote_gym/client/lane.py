"""The client's side of a lane: numbered frames straight to the session's worker.

On the server's host, over a Unix socket, or over loopback TCP where the server offers that
(``tcp:127.0.0.1:PORT``: on Windows, or when the server forces it). From another host, the network
lane: ``tls:ADDRESS:PORT`` (TLS with the trust of the gRPC channel, the server's name checked as gRPC
checks it) or ``tcp:ADDRESS:PORT`` (plaintext, where the operator allowed it). A TCP lane uses only
calls every OS has (``select.select``), so Linux runs the path Windows takes.

A blocking socket used from the calling thread: no event loop, no thread hand-over. Any failure
raises :class:`LaneBroken`; the caller then re-sends the same numbered request through the gRPC
stream (the worker applies each request number once, and replays the reply of one it applied).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from remote_gym.errors import DeadlineExceededError, ProtocolError
from remote_gym.wire.frames import READ_BYTES, FrameDecoder, Numbering, frame_parts
from remote_gym.wire.handshake import HelloReader, encode_hello, is_accepted
from remote_gym.wire.polling import PollGate, spin

logger = logging.getLogger(__name__)

_TCP_PREFIX = "tcp:"
_TLS_PREFIX = "tls:"
_NETWORK_PREFIXES = (_TCP_PREFIX, _TLS_PREFIX)
_UNACKED_LIMIT_MS = 30_000
"""A TCP lane whose sent bytes stay unacknowledged this long is broken (``TCP_USER_TIMEOUT``)."""
_SELECT_FD_LIMIT = 1024
"""``select.select`` refuses larger fds on Linux (FD_SETSIZE): a TCP lane there polls with ``poll``."""


class LaneBroken(Exception):
    """The lane failed (socket error, worker gone, lane closed by the server): go on through gRPC."""


@dataclass(frozen=True)
class LaneSecurity:
    """What a network lane needs beyond its address: TLS trust, the server's name, the size limit."""

    tls: ssl.SSLContext | None = None
    """The gRPC channel's trust as an SSL context (None: a plaintext channel, no ``tls:`` lane)."""
    server_name: str = ""
    """The name the server's certificate is checked against (the gRPC target's host, or its override)."""
    max_frame_bytes: int | None = None
    """Largest reply accepted (``ClientConfig.max_message_bytes``)."""


def tune_tcp(sock: socket.socket) -> None:
    """No Nagle delay; where the platform has it, give up on a peer that acknowledges nothing for a
    while (``TCP_USER_TIMEOUT``: a network gone silent mid-reply fails the lane instead of hanging it)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)
    if user_timeout is not None:
        sock.setsockopt(socket.IPPROTO_TCP, user_timeout, _UNACKED_LIMIT_MS)


def is_network_lane(path: str) -> bool:
    """Whether a lane address leads to another host (``tls:``, or ``tcp:`` to a non-loopback address)."""
    if path.startswith(_TLS_PREFIX):
        return True
    if not path.startswith(_TCP_PREFIX):
        return False
    host = path[len(_TCP_PREFIX) :].rsplit(":", 1)[0].strip("[]")
    return host not in ("127.0.0.1", "::1", "localhost")


class Lane:
    """One session's open lane; each call writes one request frame and reads its reply frame.

    The socket stays blocking: a blocking ``recv`` is one system call. While replies usually come
    within the polling budget, the reply is first polled for (non-blocking reads) instead of slept
    for, which saves the thread's wake-up (``ClientConfig.spin_us``, :mod:`remote_gym.wire.polling`).
    """

    def __init__(
        self, sock: socket.socket, path: str, spin_s: float = 0.0, max_frame_bytes: int | None = None
    ) -> None:
        self._sock = sock
        self.path = path
        self._numbers = Numbering()
        self._decoder = FrameDecoder(max_frame_bytes)
        self._reply_gate = PollGate(spin_s)
        """Whether to poll for a reply: the running average of the time from a request to its reply."""
        self._portable = path.startswith(_NETWORK_PREFIXES) or not hasattr(socket, "MSG_DONTWAIT")
        self._readable = _readiness(sock, portable=self._portable)
        """Waits up to its argument (seconds) for the socket to be readable; whether it is."""

    @classmethod
    def open(
        cls,
        path: str,
        secret: bytes,
        timeout: float,
        spin_s: float = 0.0,
        security: LaneSecurity | None = None,
    ) -> Lane | None:
        """Connect to ``path`` and present ``secret``; None if that fails for any reason (stay on gRPC)."""
        security = security or LaneSecurity()
        tcp = path.startswith(_NETWORK_PREFIXES)
        if not tcp and not hasattr(socket, "AF_UNIX"):
            return None
        if path.startswith(_TLS_PREFIX) and security.tls is None:
            logger.info("the lane at %s is TLS and this channel is not: staying on gRPC", path)
            return None
        sock: socket.socket | None = None
        try:
            if tcp:
                host, port = path[len(_TCP_PREFIX) :].rsplit(":", 1)
                sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
                tune_tcp(sock)
                if security.tls is not None and path.startswith(_TLS_PREFIX):
                    sock = security.tls.wrap_socket(
                        sock, server_hostname=security.server_name or host.strip("[]")
                    )
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(path)
            sock.sendall(encode_hello(secret))
            hello = HelloReader()
            answer = None
            while answer is None:
                chunk = sock.recv(hello.missing())
                if not chunk:
                    break
                answer = hello.feed(chunk)
            if answer is not None and is_accepted(answer):
                sock.settimeout(None)
                return cls(sock, path, spin_s, security.max_frame_bytes)
            logger.info("the lane at %s refused this client: staying on gRPC", path)
        except (OSError, ProtocolError, ValueError) as exc:
            log = logger.warning if isinstance(exc, ssl.SSLError) else logger.debug
            log("cannot open the lane at %s (%s): staying on gRPC", path, exc)
        if sock is not None:
            sock.close()
        return None

    def roundtrip(self, payload: bytes, timeout: float | None) -> bytes:
        """Send one serialized request and return its serialized reply.

        Raises:
            DeadlineExceededError: No reply within ``timeout`` (the lane is closed: it is out of step).
            LaneBroken: The lane failed; nothing is known of whether the worker applied the request.
        """
        sock = self._sock
        number = self._numbers.next()
        decoder = self._decoder
        start = time.perf_counter()
        try:
            for part in frame_parts(payload, number):
                sock.sendall(part)
            frames = decoder.feed(self._first_bytes(start, timeout))
            while not frames:
                self._wait_for_more(start, timeout)
                more = sock.recv(max(decoder.missing(), READ_BYTES))
                if not more:
                    raise LaneBroken("the worker closed the lane")
                frames = decoder.feed(more)
        except DeadlineExceededError:  # a TimeoutError, so an OSError: not a broken lane but a late reply
            raise
        except OSError as exc:
            raise LaneBroken(str(exc) or type(exc).__name__) from exc
        self._reply_gate.note(time.perf_counter() - start)
        return self._reply_to(number, frames)

    def _reply_to(self, number: int, frames: list[tuple[int, bytes]]) -> bytes:
        """The one reply read, if it answers request ``number`` and nothing else came."""
        got, reply = frames[0]
        if got != number or len(frames) != 1 or self._decoder.buffered:
            raise LaneBroken(f"reply {got} ({len(frames)} frames) does not answer request {number}")
        return reply

    def _first_bytes(self, start: float, timeout: float | None) -> bytes:
        """The reply's first bytes: polled for while replies come quickly, else waited for up to ``timeout``."""
        sock = self._sock
        gate = self._reply_gate
        if gate.worth_it():
            data = spin(self._try_recv, gate.budget_s)
            if data is not None:
                if not data:
                    raise LaneBroken("the worker closed the lane")
                return data
        if timeout is not None and not self._readable(max(0.0, start + timeout - time.perf_counter())):
            self.close()
            raise DeadlineExceededError(f"request on the lane took longer than {timeout} s")
        data = sock.recv(READ_BYTES)
        if not data:
            raise LaneBroken("the worker closed the lane")
        return data

    def _wait_for_more(self, start: float, timeout: float | None) -> None:
        """Wait for the rest of a reply within the call's deadline (a network may stall mid-reply)."""
        sock = self._sock
        if timeout is None or (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            return
        if not self._readable(max(0.0, start + timeout - time.perf_counter())):
            self.close()
            raise DeadlineExceededError(f"request on the lane took longer than {timeout} s")

    def _try_recv(self) -> bytes | None:
        if self._portable:
            return self._sock.recv(READ_BYTES) if self._readable(0.0) else None
        try:
            return self._sock.recv(READ_BYTES, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None

    async def aroundtrip(self, payload: bytes) -> bytes:
        """:meth:`roundtrip` on the running event loop (for a vector env waiting on several hosts).

        Cancelling it leaves the lane out of step: the caller closes it.

        Raises:
            LaneBroken: The lane failed.
        """
        loop = asyncio.get_running_loop()
        sock = self._sock
        number = self._numbers.next()
        decoder = self._decoder
        tls = isinstance(sock, ssl.SSLSocket)  # the loop's sock_* calls refuse TLS sockets
        try:
            if tls:
                for part in frame_parts(payload, number):
                    sock.sendall(part)  # a request fits the socket's buffer: this does not wait
            sock.setblocking(False)
            if not tls:
                for part in frame_parts(payload, number):
                    await loop.sock_sendall(sock, part)
            frames: list[tuple[int, bytes]] = []
            while not frames:
                size = max(decoder.missing(), READ_BYTES)
                more = await (_tls_recv(loop, sock, size) if tls else loop.sock_recv(sock, size))
                if not more:
                    raise LaneBroken("the worker closed the lane")
                frames = decoder.feed(more)
        except OSError as exc:
            raise LaneBroken(str(exc) or type(exc).__name__) from exc
        finally:
            sock.setblocking(True)
        return self._reply_to(number, frames)

    def close(self) -> None:
        """Close the socket; idempotent."""
        with contextlib.suppress(OSError):
            self._sock.close()


async def _tls_recv(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes:
    """``recv`` on a non-blocking TLS socket, waiting on the loop while no whole record has come."""
    while True:
        try:
            return sock.recv(size)
        except ssl.SSLWantReadError:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_reader(sock.fileno(), _settle, ready)
            try:
                await ready
            finally:
                loop.remove_reader(sock.fileno())


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _readiness(sock: socket.socket, *, portable: bool) -> Callable[[float], bool]:
    """A wait of up to ``timeout_s`` for ``sock`` to be readable: ``select.select`` on the portable path."""
    if hasattr(select, "poll") and (not portable or sock.fileno() >= _SELECT_FD_LIMIT):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return lambda timeout_s: bool(poller.poll(int(timeout_s * 1e3)))
    return lambda timeout_s: bool(select.select([sock], [], [], timeout_s)[0])
