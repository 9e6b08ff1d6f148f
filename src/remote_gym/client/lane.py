"""The client's side of the same-host lane: numbered frames straight to the session's worker over a Unix socket.

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
import struct
import time

from remote_gym.errors import DeadlineExceededError
from remote_gym.transport.spin import usable_cpus, yield_cpu

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")
_ACCEPTED = b"ok"
_READ_BYTES = 1 << 16
_NUMBER_MODULUS = 1 << 32
_AVERAGE_WEIGHT = 0.125


def spin_budget_s(spin_us: float) -> float:
    """A polling budget in seconds: 0 when ``spin_us`` is 0 or this process has one usable CPU."""
    return spin_us * 1e-6 if spin_us > 0 and usable_cpus() >= 2 else 0.0


class LaneBroken(Exception):
    """The lane failed (socket error, worker gone, lane closed by the server): go on through gRPC."""


class Lane:
    """One session's open lane; each call writes one request frame and reads its reply frame.

    The socket stays blocking: a blocking ``recv`` is one system call. While replies usually come
    within ``spin_s``, the reply is first polled for (non-blocking reads) instead of slept for,
    which saves the thread's wake-up (``ClientConfig.spin_us``).
    """

    def __init__(self, sock: socket.socket, path: str, spin_s: float = 0.0) -> None:
        self._sock = sock
        self.path = path
        self._number = 0
        self._spin_s = spin_s
        self._reply_s = 0.0
        """Running average of the time from sending a request to its reply."""
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)

    @classmethod
    def open(cls, path: str, secret: bytes, timeout: float, spin_s: float = 0.0) -> Lane | None:
        """Connect to ``path`` and present ``secret``; None if that fails for any reason (stay on gRPC)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(_HEADER.pack(len(secret), 0) + secret)
            header = sock.recv(_HEADER.size, socket.MSG_WAITALL)
            if len(header) == _HEADER.size:
                size, _ = _HEADER.unpack(header)
                if size == len(_ACCEPTED) and sock.recv(size, socket.MSG_WAITALL) == _ACCEPTED:
                    sock.settimeout(None)
                    return cls(sock, path, spin_s)
            logger.info("the lane at %s refused this client: staying on gRPC", path)
        except OSError as exc:
            logger.debug("cannot open the lane at %s (%s): staying on gRPC", path, exc)
        sock.close()
        return None

    def _frame(self, payload: bytes) -> tuple[int, bytes]:
        self._number = number = self._number % (_NUMBER_MODULUS - 1) + 1
        return number, _HEADER.pack(len(payload), number) + payload

    def roundtrip(self, payload: bytes, timeout: float | None) -> bytes:
        """Send one serialized request and return its serialized reply.

        Raises:
            DeadlineExceededError: No reply within ``timeout`` (the lane is closed: it is out of step).
            LaneBroken: The lane failed; nothing is known of whether the worker applied the request.
        """
        sock = self._sock
        number, frame = self._frame(payload)
        start = time.perf_counter()
        try:
            sock.sendall(frame)
            data = self._first_bytes(start, timeout)
            while len(data) < _HEADER.size:
                more = sock.recv(_READ_BYTES)
                if not more:
                    raise LaneBroken("the worker closed the lane")
                data += more
            size, got = _HEADER.unpack_from(data)
            end = _HEADER.size + size
            if len(data) < end:
                data = self._read_rest(data, end)
        except OSError as exc:
            raise LaneBroken(str(exc) or type(exc).__name__) from exc
        self._reply_s += _AVERAGE_WEIGHT * (time.perf_counter() - start - self._reply_s)
        if got != number or len(data) != end:
            raise LaneBroken(f"reply {got} ({len(data)} bytes) does not answer request {number}")
        return data[_HEADER.size :]

    def _first_bytes(self, start: float, timeout: float | None) -> bytes:
        """The reply's first bytes: polled for while replies come quickly, else waited for up to ``timeout``."""
        sock = self._sock
        if self._reply_s < self._spin_s:
            deadline = start + self._spin_s
            while True:
                try:
                    data = sock.recv(_READ_BYTES, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    if time.perf_counter() > deadline:
                        break
                    yield_cpu()
                    continue
                if not data:
                    raise LaneBroken("the worker closed the lane")
                return data
        if timeout is not None:
            remaining_ms = max(0, int((start + timeout - time.perf_counter()) * 1e3))
            if not self._poller.poll(remaining_ms):
                self.close()
                raise DeadlineExceededError(f"request on the lane took longer than {timeout} s")
        data = sock.recv(_READ_BYTES)
        if not data:
            raise LaneBroken("the worker closed the lane")
        return data

    def _read_rest(self, data: bytes, end: int) -> bytes:
        """Read a large frame's remaining bytes into one buffer (no repeated concatenation)."""
        buffer = bytearray(end)
        buffer[: len(data)] = data
        view = memoryview(buffer)
        filled = len(data)
        while filled < end:
            n = self._sock.recv_into(view[filled:])
            if not n:
                raise LaneBroken("the worker closed the lane")
            filled += n
        return bytes(buffer)

    async def aroundtrip(self, payload: bytes) -> bytes:
        """:meth:`roundtrip` on the running event loop (for a vector env waiting on several hosts).

        Cancelling it leaves the lane out of step: the caller closes it.

        Raises:
            LaneBroken: The lane failed.
        """
        loop = asyncio.get_running_loop()
        sock = self._sock
        number, frame = self._frame(payload)
        sock.setblocking(False)
        try:
            await loop.sock_sendall(sock, frame)
            data = b""
            while len(data) < _HEADER.size:
                more = await loop.sock_recv(sock, _READ_BYTES)
                if not more:
                    raise LaneBroken("the worker closed the lane")
                data += more
            size, got = _HEADER.unpack_from(data)
            parts, have = [data], len(data)
            while have < _HEADER.size + size:
                more = await loop.sock_recv(sock, min(_HEADER.size + size - have, 1 << 20))
                if not more:
                    raise LaneBroken("the worker closed the lane")
                parts.append(more)
                have += len(more)
        except OSError as exc:
            raise LaneBroken(str(exc) or type(exc).__name__) from exc
        finally:
            sock.setblocking(True)
        data = b"".join(parts)
        if got != number or len(data) != _HEADER.size + size:
            raise LaneBroken(f"reply {got} ({len(data)} bytes) does not answer request {number}")
        return data[_HEADER.size :]

    def close(self) -> None:
        """Close the socket; idempotent."""
        with contextlib.suppress(OSError):
            self._sock.close()


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
            raise DeadlineExceededError(f"request to {self._target} took longer than {timeout} s") from exc
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
