"""The worker's side of the lanes: answer the server's socket and the client's socket alike.

When the client runs on the server's machine, the session's worker also listens on a Unix socket in
a directory only the server's user can enter (or on loopback TCP). The client connects, presents the
session's one-time secret (:mod:`remote_gym.wire.handshake`), and then sends its numbered requests
there, in the frame format the server uses (:mod:`remote_gym.wire.frames`), skipping the gRPC
process. A client on another host gets the same over TCP on an address the server announces (the
network lane), TLS with the server's certificates where it has them; a network lane that breaks may
be opened again, with the next of the session's one-time secrets. Connections are admitted without
blocking the session (:mod:`.lane_admit`). On a host that dials a hub and listens nowhere, the worker
opens its lane itself, to the hub (:mod:`.lane_dial`), and again when the server asks after a resume. Both sockets feed one :class:`Sequencer`: the client's
request numbers (``Request.seq``) are the session's numbering across both paths, so a request
re-sent through the server after the lane broke is applied once. Each socket has its own frame
numbers, so the lane never disturbs the server's pairing of replies with requests.

Control frames from the server (:mod:`remote_gym.wire.control`): ``{"op": "close"}`` closes the lane
(the server ends the session: the client's next request then goes through the server and learns
why); ``{"op": "status"}`` is answered with a :class:`~remote_gym.wire.control.WorkerStatus` that adds
the seconds since the last request on any path (the server's idle expiry) and the requests answered
on the lane. Requests from either socket are answered by the one :class:`~.rules.SessionAnswer`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import selectors
import socket
import ssl
import time
from collections.abc import Callable

from remote_gym.codec.requests import REQUEST_KINDS, request_kind
from remote_gym.errors import ConfigError
from remote_gym.server.handlers.frame_io import FrameReader, write_frame
from remote_gym.server.handlers.lane_admit import Admission, Pending, listen_tcp, network_tls, peer_uid
from remote_gym.server.handlers.lane_dial import dial_lane, redial
from remote_gym.server.handlers.lane_spec import TCP_HOST, TCP_PREFIX, TLS_PREFIX, LaneSpec
from remote_gym.server.handlers.meter import RequestMeter
from remote_gym.server.handlers.rules import SessionAnswer, SessionRules
from remote_gym.server.handlers.worker_loop import Handler, write_description
from remote_gym.wire.control import CLOSE_LANE, DIAL_LANE, STATUS, WorkerStatus, control_op
from remote_gym.wire.frames import CONTROL_NUMBER, READ_BYTES, FrameDecoder, FrameTooLargeError
from remote_gym.wire.handshake import SecretChain, SecretGate
from remote_gym.wire.polling import PollGate, spin, spin_budget_s

logger = logging.getLogger(__name__)


class LaneWorker:
    """One worker's serving loop over its server socket and, once a client presents the secret, its lane."""

    def __init__(
        self,
        sock: socket.socket,
        reader: FrameReader,
        handler: Handler,
        spec: LaneSpec,
        rules: SessionRules,
    ) -> None:
        self._sock = sock
        self._reader = reader
        self._answer = SessionAnswer(handler, rules)
        self._env_restarts = handler.env_restarts
        self._spec = spec
        secret = bytes.fromhex(spec.secret)
        self._gate = SecretChain(secret) if spec.network is not None else SecretGate(secret)
        """A network lane may be opened again after a cut (a new secret each time); a same-host lane once."""
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._lane: socket.socket | None = None
        self._decoder = FrameDecoder(spec.max_message_bytes)
        self._last_request = time.monotonic()
        self._lane_requests = [0] * len(REQUEST_KINDS)
        """Requests answered on the lane, by kind: the server reports them with its own counts."""
        self._meter = RequestMeter(len(REQUEST_KINDS))
        """Times and bytes of the requests answered on the lane (reported in the status)."""
        self._next_request = PollGate(spin_budget_s(spec.spin_us))
        """Whether to poll for the client's next request: the running average of the gap before it."""
        self._replied = 0.0
        self._ready_now: Callable[[], list[int]] | None = None
        """The fds of both sockets that are readable now, while the lane is open (see :meth:`_spin`)."""
        self.tcp = spec.path.startswith((TCP_PREFIX, TLS_PREFIX))
        self._admission = Admission(self._gate, network_tls(spec.network))
        self.address = spec.path
        """Where the client connects: the socket path, or ``tcp:127.0.0.1:PORT`` once listening."""

    def listen(self) -> None:
        """Bind the lane socket (before the session's description goes out, so the client finds it);
        or open the lane to the hub, for a host that dials out (``LaneSpec.dial``)."""
        network = self._spec.network
        if self._spec.dial is not None:
            self._adopt(dial_lane(self._spec.dial))
            return
        if network is not None:
            low, high = network["ports"]
            listener = listen_tcp(network["bind"], range(low, high + 1))
            self.address = f"{self._spec.path.rsplit(':', 1)[0]}:{listener.getsockname()[1]}"
        elif self.tcp:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind((TCP_HOST, 0))
            listener.listen(4)
            self.address = f"{TCP_PREFIX}{TCP_HOST}:{listener.getsockname()[1]}"
        else:
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
        try:
            while True:
                if self._ready_now is not None and self._next_request.worth_it() and self._spin():
                    continue
                # The server's frames first: a lane closed by the server (the session ended) must
                # not answer a request that was waiting beside the close.
                events = self._selector.select(self._admission.timeout(time.monotonic()))
                for key, _ in sorted(events, key=lambda event: event[0].data != self._from_server):
                    if not key.data():
                        return 0
                self._expire_pending()
        finally:
            self._admission.close()
            self._close_lane()
            self._selector.close()

    def _from_server(self) -> bool:
        frames = self._reader.read_available()
        if frames is None:
            return False
        for number, data in frames:
            if number == CONTROL_NUMBER:
                self._control(data)
                continue
            reply = self._answer(data)
            self._last_request = time.monotonic()
            write_frame(self._sock, reply, number)
        self._answer.after_reply()
        return True

    def _control(self, data: bytes) -> None:
        op = control_op(data)
        if op == CLOSE_LANE:
            self._close_lane()
        elif op == DIAL_LANE and self._spec.dial is not None:
            conn = redial(data)
            if conn is not None:
                self._adopt(conn)
        elif op == STATUS:
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
            conn, address = self._listener.accept()
        except OSError:
            return True
        uid = None if self.tcp else peer_uid(conn)
        if uid is not None and uid != os.getuid():
            logger.warning("lane connection refused: peer user id %d is not the server's", uid)
            conn.close()
            return True
        entry = self._admission.start(conn, address)
        if entry is not None:
            self._selector.register(entry.conn, selectors.EVENT_READ, lambda: self._advance(entry))
        return True  # still listening: a replay of the secret is refused, and logged

    def _advance(self, entry: Pending) -> bool:
        """A connection in its handshake is readable: go on with it; open the lane once it is admitted."""
        admitted = self._admission.advance(entry)
        conn = entry.conn
        if admitted is None:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if entry.wants_write else 0)
            self._selector.modify(conn, events, lambda: self._advance(entry))
            return True
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        if admitted:
            self._adopt(conn)
        return True

    def _adopt(self, conn: socket.socket) -> None:
        """Serve the lane on ``conn`` (a network lane opened again replaces its old connection here)."""
        self._drop_connection()
        self._lane = conn
        self._ready_now = _readable_now(self._sock, conn, portable=self.tcp)
        self._selector.register(conn, selectors.EVENT_READ, self._from_lane)

    def _expire_pending(self) -> None:
        for entry in self._admission.overdue(time.monotonic()):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(entry.conn)
            self._admission.expire(entry)

    def _spin(self) -> bool:
        """Poll both sockets (without sleeping) until one is readable or the spin budget is spent.

        Returns:
            True when a lane request came alone and was answered (the selector is then not needed).
        """
        ready_now = self._ready_now
        assert ready_now is not None and self._lane is not None
        lane_fd = self._lane.fileno()
        ready = spin(lambda: ready_now() or None, self._next_request.budget_s)
        if ready is not None and len(ready) == 1 and ready[0] == lane_fd:
            self._from_lane()
            return True
        return False

    def _from_lane(self) -> bool:
        lane = self._lane
        if lane is None:  # closed by the server's frame just before, in the same turn
            return True
        try:
            chunk = lane.recv(READ_BYTES)
            while chunk and isinstance(lane, ssl.SSLSocket) and lane.pending():
                chunk += lane.recv(READ_BYTES)  # decrypted already: the selector would not tell
        except OSError:
            chunk = b""
        self._lane_chunk(chunk)
        return True

    def _lane_chunk(self, chunk: bytes) -> None:
        """Take bytes read from the lane; answer each whole request in them."""
        lane = self._lane
        assert lane is not None
        if not chunk:
            self._lane_lost()
            return
        if self._replied:
            self._next_request.note(time.perf_counter() - self._replied)
            self._replied = 0.0
        try:
            frames = self._decoder.feed(chunk)
        except FrameTooLargeError as exc:
            logger.warning("lane request refused (%s): closing the lane", exc)
            self._lane_lost()
            return
        for number, data in frames:
            start = time.perf_counter()
            reply = self._answer(data)
            seconds = time.perf_counter() - start
            kind = request_kind(data)
            if kind < len(self._lane_requests):
                self._lane_requests[kind] += 1
                self._meter.record(kind, len(data), len(reply), seconds)
            self._last_request = time.monotonic()
            try:
                write_frame(lane, reply, number)
            except OSError:  # the client went away or gave up: it re-sends through the server
                self._lane_lost()
                return
        self._answer.after_reply()
        self._replied = time.perf_counter()

    def _lane_lost(self) -> None:
        """The lane's connection failed: a network lane waits for the client to open it again (after
        re-sending through the server); a same-host lane is closed for good."""
        if self._spec.network is not None:
            self._drop_connection()
        else:
            self._close_lane()

    def _drop_connection(self) -> None:
        if self._lane is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._lane)
            self._lane.close()
        self._lane = None
        self._ready_now = None
        self._decoder.clear()

    def _close_lane(self) -> None:
        self._gate.close()
        self._drop_connection()
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._listener)
            self._listener.close()
            if not self.tcp:
                with contextlib.suppress(OSError):
                    os.unlink(self._spec.path)
        self._listener = None


def serve_with_lane(
    sock: socket.socket,
    reader: FrameReader,
    handler: Handler,
    spec: LaneSpec,
    rules: SessionRules,
) -> int:
    """:func:`~.worker_loop.serve_requests` with a lane: listen, describe the env (frame 0), serve both sockets.

    If the lane socket cannot be bound, the worker serves the server's socket alone (the client,
    unable to open the path, stays on the server's path).

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be described.
    """
    worker = LaneWorker(sock, reader, handler, spec, rules)
    try:
        try:
            worker.listen()
        except (OSError, ConfigError) as exc:
            if spec.dial is not None:
                logger.warning(
                    "cannot open a lane to the hub at %s:%s: %s", spec.dial["host"], spec.dial["port"], exc
                )
            else:
                logger.warning("cannot listen on the lane socket %s: %s", spec.path, exc)
        if not write_description(sock, handler, worker.address if worker.tcp else ""):
            return 1
        return worker.serve()
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        if not worker.tcp:
            with contextlib.suppress(OSError):
                os.unlink(spec.path)


def _readable_now(*socks: socket.socket, portable: bool) -> Callable[[], list[int]]:
    """A check, without waiting, of which of ``socks`` are readable (their fds).

    ``select.poll`` where there is one; ``select.select`` on platforms without it (Windows) and on
    TCP lanes everywhere, so that Linux runs the portable path too (a worker has few fds: select's
    fd limit does not matter here).
    """
    if portable or not hasattr(select, "poll"):
        fds = [sock.fileno() for sock in socks]
        return lambda: select.select(fds, [], [], 0)[0]
    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLIN)
    return lambda: [fd for fd, _ in poller.poll(0)]
