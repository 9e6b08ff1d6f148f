"""The client's side of the same-host lane: numbered frames straight to the session's worker.

Over a Unix socket, or over loopback TCP where the server offers that (``tcp:127.0.0.1:PORT``: on
Windows, or when the server forces it); a TCP lane uses only calls every OS has (``select.select``),
so Linux runs the path Windows takes.

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
import time
from collections.abc import Callable

from remote_gym.errors import DeadlineExceededError, ProtocolError
from remote_gym.transport.status import foreign_error
from remote_gym.wire.frames import FrameDecoder, Numbering, frame_parts
from remote_gym.wire.handshake import HelloReader, encode_hello, is_accepted
from remote_gym.wire.polling import PollGate, spin, spin_budget_s

logger = logging.getLogger(__name__)

_READ_BYTES = 1 << 16
_TCP_PREFIX = "tcp:"
_SELECT_FD_LIMIT = 1024
"""``select.select`` refuses larger fds on Linux (FD_SETSIZE): a TCP lane there polls with ``poll``."""


class LaneBroken(Exception):
    """The lane failed (socket error, worker gone, lane closed by the server): go on through gRPC."""


class Lane:
    """One session's open lane; each call writes one request frame and reads its reply frame.

    The socket stays blocking: a blocking ``recv`` is one system call. While replies usually come
    within the polling budget, the reply is first polled for (non-blocking reads) instead of slept
    for, which saves the thread's wake-up (``ClientConfig.spin_us``, :mod:`remote_gym.wire.polling`).
    """

    def __init__(self, sock: socket.socket, path: str, spin_s: float = 0.0) -> None:
        self._sock = sock
        self.path = path
        self._numbers = Numbering()
        self._decoder = FrameDecoder()
        self._reply_gate = PollGate(spin_s)
        """Whether to poll for a reply: the running average of the time from a request to its reply."""
        self._portable = path.startswith(_TCP_PREFIX) or not hasattr(socket, "MSG_DONTWAIT")
        self._readable = _readiness(sock, portable=self._portable)
        """Waits up to its argument (seconds) for the socket to be readable; whether it is."""

    @classmethod
    def open(cls, path: str, secret: bytes, timeout: float, spin_s: float = 0.0) -> Lane | None:
        """Connect to ``path`` and present ``secret``; None if that fails for any reason (stay on gRPC)."""
        tcp = path.startswith(_TCP_PREFIX)
        if not tcp and not hasattr(socket, "AF_UNIX"):
            return None
        sock = socket.socket(socket.AF_INET if tcp else socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if tcp:
                host, port = path[len(_TCP_PREFIX) :].rsplit(":", 1)
                sock.connect((host, int(port)))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
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
                return cls(sock, path, spin_s)
            logger.info("the lane at %s refused this client: staying on gRPC", path)
        except (OSError, ProtocolError) as exc:
            logger.debug("cannot open the lane at %s (%s): staying on gRPC", path, exc)
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
                more = sock.recv(max(decoder.missing(), _READ_BYTES))
                if not more:
                    raise LaneBroken("the worker closed the lane")
                frames = decoder.feed(more)
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
        data = sock.recv(_READ_BYTES)
        if not data:
            raise LaneBroken("the worker closed the lane")
        return data

    def _try_recv(self) -> bytes | None:
        if self._portable:
            return self._sock.recv(_READ_BYTES) if self._readable(0.0) else None
        try:
            return self._sock.recv(_READ_BYTES, socket.MSG_DONTWAIT)
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
        sock.setblocking(False)
        try:
            for part in frame_parts(payload, number):
                await loop.sock_sendall(sock, part)
            frames: list[tuple[int, bytes]] = []
            while not frames:
                more = await loop.sock_recv(sock, max(decoder.missing(), _READ_BYTES))
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


def _readiness(sock: socket.socket, *, portable: bool) -> Callable[[float], bool]:
    """A wait of up to ``timeout_s`` for ``sock`` to be readable: ``select.select`` on the portable path."""
    if hasattr(select, "poll") and (not portable or sock.fileno() >= _SELECT_FD_LIMIT):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return lambda timeout_s: bool(poller.poll(int(timeout_s * 1e3)))
    return lambda timeout_s: bool(select.select([sock], [], [], timeout_s)[0])


class LaneSlot:
    """A connection's lane, if it has one: tries a request on it, and falls back for good on any failure."""

    def __init__(self, target: str) -> None:
        self._target = target
        self.lane: Lane | None = None

    @property
    def path(self) -> str:
        """Which path requests take now: ``"lane"`` or ``"grpc"``."""
        return "lane" if self.lane is not None else "grpc"

    def open(self, path: str, secret: bytes, timeout: float, spin_us: float = 0.0) -> None:
        """Open the lane a MakeResponse offered (if this process can open its path)."""
        self.close()
        self.lane = Lane.open(path, secret, timeout, spin_budget_s(spin_us))
        if self.lane is not None:
            logger.debug("requests to %s go straight to the worker over %s", self._target, path)

    def request(self, payload: bytes, timeout: float | None) -> bytes | None:
        """The reply to ``payload`` through the lane, or None if the lane failed (re-send it through gRPC).

        Raises:
            DeadlineExceededError: No reply within ``timeout`` (the lane is closed).
        """
        lane = self.lane
        assert lane is not None
        try:
            return lane.roundtrip(payload, timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except BaseException:  # a deadline or an interrupt: the lane is out of step
            self.close()
            raise

    async def arequest(self, payload: bytes, timeout: float | None) -> bytes | None:
        """:meth:`request` on the running event loop."""
        lane = self.lane
        assert lane is not None
        try:
            if timeout is None:
                return await lane.aroundtrip(payload)
            return await asyncio.wait_for(lane.aroundtrip(payload), timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except asyncio.TimeoutError as exc:
            self.close()
            raise foreign_error(exc, f"request to {self._target}", timeout=timeout) from exc
        except BaseException:
            self.close()
            raise

    def _fall_back(self, exc: BaseException) -> None:
        logger.info("the lane to %s broke (%s): going on through gRPC", self._target, exc)
        self.close()

    def close(self) -> None:
        """Close the lane (idempotent); later requests go through gRPC."""
        lane, self.lane = self.lane, None
        if lane is not None:
            lane.close()
