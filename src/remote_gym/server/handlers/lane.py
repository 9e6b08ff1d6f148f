"""The worker's side of the same-host lane: answer the server's socket and a local client's socket alike.

When the client runs on the server's machine, the session's worker also listens on a Unix socket in
a directory only the server's user can enter. The client connects, presents the session's one-time
secret, and then sends its numbered requests there, in the frame format the server uses
(:mod:`.frames`), skipping the gRPC process. Both sockets feed one :class:`Sequencer`: the client's
request numbers (``Request.seq``) are the session's numbering across both paths, so a request
re-sent through the server after the lane broke is applied once. Each socket has its own frame
numbers, so the lane never disturbs the server's pairing of replies with requests.

Control frames from the server (numbered 0, see :mod:`.frames`): ``{"op": "close"}`` closes the lane
(the server ends the session: the client's next request then goes through the server and learns
why); ``{"op": "status"}`` is answered with a :class:`~.frames.WorkerStatus` that adds the seconds
since the last request on any path (the server's idle expiry) and the requests answered on the lane.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import select
import selectors
import signal
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from remote_gym.codec.requests import REQUEST_KINDS, request_kind
from remote_gym.errors import ServerBusyError
from remote_gym.server.handlers.frames import (
    CONTROL_NUMBER,
    HEADER_BYTES,
    Handler,
    WorkerStatus,
    control_op,
    pack_header,
    split_frames,
    write_description,
    write_frame,
)
from remote_gym.server.handlers.meter import RequestMeter
from remote_gym.server.handlers.sequencer import Sequencer, error_bytes

logger = logging.getLogger(__name__)

LANE_ACCEPTED = b"ok"
"""The worker's answer (frame 0) to a lane connection that presented the right secret."""
_HANDSHAKE_TIMEOUT_S = 2.0
_READ_BYTES = 1 << 18
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_AVERAGE_WEIGHT = 0.125
_yield_cpu = getattr(os, "sched_yield", lambda: None)


def spin_us_to_s(spin_us: float) -> float:
    """A polling budget in seconds: 0 when ``spin_us`` is 0 or this process has one usable CPU."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return spin_us * 1e-6 if spin_us > 0 and cpus >= 2 else 0.0


@dataclass(frozen=True)
class LaneSpec:
    """Where a worker listens for its session's client, and what it checks."""

    path: str
    """Socket path, inside the server's 0700 lane directory."""
    secret: str
    """The session's one-time secret (hex)."""
    max_message_bytes: int
    """Largest request accepted and reply sent on the lane (as on the gRPC path)."""
    max_call_s: float | None
    """A lane request taking longer ends the worker (SIGALRM), as the server kills it on the gRPC path."""
    spin_us: float = 0.0
    """While the client's next request usually comes within this, poll the lane for it instead of
    sleeping (``ServerConfig.spin_us``; never with one usable CPU)."""

    def to_json(self) -> dict[str, Any]:
        """Plain-data form, carried in the worker's start message."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaneSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


def peer_uid(conn: socket.socket) -> int | None:
    """The user id of a Unix socket's peer (Linux ``SO_PEERCRED``); None where the platform cannot tell."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _pid, uid, _gid = _PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    return int(uid)


class LaneWorker:
    """One worker's serving loop over its server socket and, once a client presents the secret, its lane."""

    def __init__(self, sock: socket.socket, reader: BinaryIO, handler: Handler, spec: LaneSpec) -> None:
        self._sock = sock
        self._reader = reader
        self._sequencer = Sequencer(handler.handle)
        self._env_restarts = handler.env_restarts
        self._spec = spec
        self._secret: bytes | None = bytes.fromhex(spec.secret)
        """None once used: the first connection that presents it wins."""
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._lane: socket.socket | None = None
        self._lane_buffer = bytearray()
        self._server_buffer = bytearray()
        self._last_request = time.monotonic()
        self._lane_requests = [0] * len(REQUEST_KINDS)
        """Requests answered on the lane, by kind: the server reports them with its own counts."""
        self._meter = RequestMeter(len(REQUEST_KINDS))
        """Times and bytes of the requests answered on the lane (reported in the status)."""
        self._spin_s = spin_us_to_s(spec.spin_us)
        self._gap_s = 0.0
        """Running average of the time from a lane reply to the client's next request."""
        self._replied = 0.0
        self._poller: select.poll | None = None
        """Both sockets while the lane is open, for polling without sleeping (see :meth:`_spin`)."""

    def listen(self) -> None:
        """Bind the lane socket (before the session's description goes out, so the client finds it)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._spec.path)
        listener.bind(self._spec.path)
        os.chmod(self._spec.path, 0o600)
        listener.listen(4)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, self._accept)

    def serve(self) -> int:
        """Answer both sockets until the server hangs up; returns the exit code (0)."""
        self._selector.register(self._sock, selectors.EVENT_READ, self._from_server)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # max_call_s on the lane: the alarm ends the worker
        try:
            while True:
                if self._poller is not None and self._gap_s < self._spin_s and self._spin():
                    continue
                # The server's frames first: a lane closed by the server (the session ended) must
                # not answer a request that was waiting beside the close.
                for key, _ in sorted(
                    self._selector.select(), key=lambda event: event[0].data != self._from_server
                ):
                    if not key.data():
                        return 0
        finally:
            self._close_lane()
            self._selector.close()

    def _from_server(self) -> bool:
        chunk = self._reader.read1(_READ_BYTES)  # type: ignore[attr-defined]
        if not chunk:
            return False
        buffer = self._server_buffer
        buffer += chunk
        for number, data in split_frames(buffer):
            if number == CONTROL_NUMBER:
                self._control(data)
                continue
            reply = self._sequencer.answer(data)
            self._last_request = time.monotonic()
            write_frame(self._sock, reply, number)
        return True

    def _control(self, data: bytes) -> None:
        op = control_op(data)
        if op == "close":
            self._close_lane()
        elif op == "status":
            status = WorkerStatus(
                env_restarts=self._env_restarts(),
                quiet_s=time.monotonic() - self._last_request,
                lane_requests=self._lane_requests,
                lane_meter=self._meter.to_json(),
            )
            write_frame(self._sock, status.to_bytes(), CONTROL_NUMBER)

    def _accept(self) -> bool:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return True
        try:
            if self._admit(conn):
                conn.settimeout(None)
                self._lane = conn
                self._poller = select.poll()
                self._poller.register(self._sock, select.POLLIN)
                self._poller.register(conn, select.POLLIN)
                self._selector.register(conn, selectors.EVENT_READ, self._from_lane)
                return True
        except OSError as exc:
            logger.warning("lane connection failed during its handshake: %s", exc)
        conn.close()
        return True

    def _admit(self, conn: socket.socket) -> bool:
        """Check the peer's user and its secret; answer the handshake if both are right."""
        uid = peer_uid(conn)
        if uid is not None and uid != os.getuid():
            logger.warning("lane connection refused: peer user id %d is not the server's", uid)
            return False
        conn.settimeout(_HANDSHAKE_TIMEOUT_S)
        header = conn.recv(HEADER_BYTES, socket.MSG_WAITALL)
        if len(header) < HEADER_BYTES:
            return False
        size, _ = struct.unpack("<II", header)
        presented = conn.recv(min(size, 256), socket.MSG_WAITALL) if size else b""
        secret = self._secret
        if secret is None or not hmac.compare_digest(presented, secret):
            why = "its secret was used already" if secret is None else "wrong secret"
            logger.warning("lane connection refused (%s)", why)
            return False
        self._secret = None
        conn.sendall(pack_header(len(LANE_ACCEPTED)) + LANE_ACCEPTED)
        return True  # still listening: a replay of the secret is refused, and logged

    def _spin(self) -> bool:
        """Poll both sockets (without sleeping) until one is readable or the spin budget is spent.

        Returns:
            True when a lane request came alone and was answered (the selector is then not needed).
        """
        poller = self._poller
        assert poller is not None and self._lane is not None
        lane_fd = self._lane.fileno()
        deadline = time.perf_counter() + self._spin_s
        while True:
            ready = poller.poll(0)
            if ready:
                if len(ready) == 1 and ready[0][0] == lane_fd:
                    self._from_lane()
                    return True
                return False
            if time.perf_counter() >= deadline:
                return False
            _yield_cpu()

    def _from_lane(self) -> bool:
        lane = self._lane
        if lane is None:  # closed by the server's frame just before, in the same turn
            return True
        try:
            chunk = lane.recv(_READ_BYTES)
        except OSError:
            chunk = b""
        self._lane_chunk(chunk)
        return True

    def _lane_chunk(self, chunk: bytes) -> None:
        """Take bytes read from the lane; answer each whole request in them."""
        lane = self._lane
        assert lane is not None
        if not chunk:
            self._close_lane()
            return
        if self._replied:
            self._gap_s += _AVERAGE_WEIGHT * (time.perf_counter() - self._replied - self._gap_s)
            self._replied = 0.0
        buffer = self._lane_buffer
        buffer += chunk
        limit = self._spec.max_message_bytes
        if len(buffer) >= HEADER_BYTES and struct.unpack_from("<I", buffer)[0] > limit:
            logger.warning("lane request over %d bytes: closing the lane", limit)
            self._close_lane()
            return
        max_call_s = self._spec.max_call_s
        for number, data in split_frames(buffer):
            if max_call_s:
                signal.setitimer(signal.ITIMER_REAL, max_call_s)
            start = time.perf_counter()
            reply = self._sequencer.answer(data)
            seconds = time.perf_counter() - start
            if max_call_s:
                signal.setitimer(signal.ITIMER_REAL, 0)
            kind = request_kind(data)
            if kind < len(self._lane_requests):
                self._lane_requests[kind] += 1
                self._meter.record(kind, len(data), len(reply), seconds)
            self._last_request = time.monotonic()
            if len(reply) > limit:
                reply = error_bytes(
                    ServerBusyError(
                        f"the reply has {len(reply)} bytes, over the server's limit of {limit} bytes"
                    )
                )
            try:
                write_frame(lane, reply, number)
            except OSError:  # the client went away or gave up: it re-sends through the server
                self._close_lane()
                return
        self._replied = time.perf_counter()

    def _close_lane(self) -> None:
        self._secret = None
        for conn in (self._lane, self._listener):
            if conn is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(conn)
                conn.close()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._spec.path)
        self._lane = self._listener = None
        self._poller = None
        self._lane_buffer.clear()


def serve_with_lane(sock: socket.socket, reader: BinaryIO, handler: Handler, spec: LaneSpec) -> int:
    """:func:`~.frames.serve_requests` with a lane: listen, describe the env (frame 0), serve both sockets.

    If the lane socket cannot be bound, the worker serves the server's socket alone (the client,
    unable to open the path, stays on the server's path).

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be described.
    """
    worker = LaneWorker(sock, reader, handler, spec)
    try:
        try:
            worker.listen()
        except OSError as exc:
            logger.warning("cannot listen on the lane socket %s: %s", spec.path, exc)
        if not write_description(sock, handler):
            return 1
        return worker.serve()
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        with contextlib.suppress(OSError):
            os.unlink(spec.path)
