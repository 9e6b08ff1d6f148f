"""A lane worker's admission of connections: TLS handshake and secret, each within a short deadline, never blocking.

A connection to a lane must present the session's one-time secret (:mod:`remote_gym.wire.handshake`)
within :data:`HANDSHAKE_S` of being accepted, after a TLS handshake when the lane is TLS. The worker
keeps serving its session meanwhile: each pending connection is advanced when it is readable, and
dropped (and logged) when it is too slow, sends too much, presents a wrong or used secret, or fails
its TLS handshake. A connection that sends nothing (a slow-loris) therefore costs the session nothing
but a socket for the deadline's length; at most :data:`MAX_PENDING` wait at once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import time
from typing import Any

from remote_gym.errors import ProtocolError
from remote_gym.wire.handshake import HelloReader, SecretGate, encode_accepted
from remote_gym.wire.tls import server_ssl_context

logger = logging.getLogger("remote_gym.server.handlers.lane")
"""The lane's logger: a spawned worker sends its warnings to the server's stderr (``worker_main``)."""

HANDSHAKE_S = 2.0
"""Seconds a connection has, from its acceptance, to finish TLS and present the secret."""
MAX_PENDING = 8
"""Connections that may be in their handshake at once; more are closed at once."""
UNACKED_LIMIT_MS = 30_000
"""A TCP lane whose sent bytes stay unacknowledged this long is broken (``TCP_USER_TIMEOUT``)."""
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class Pending:
    """One accepted connection on its way through TLS and the hello."""

    __slots__ = ("conn", "deadline", "hello", "peer", "wants_write")

    def __init__(self, conn: socket.socket, peer: str, deadline: float) -> None:
        self.conn = conn
        self.peer = peer
        self.deadline = deadline
        self.hello = HelloReader()
        self.wants_write = False
        """The TLS handshake waits to write (the selector should watch for writability)."""


class Admission:
    """The pending connections of one lane, and the rule that admits one of them."""

    def __init__(
        self, gate: SecretGate, tls: ssl.SSLContext | None, *, deadline_s: float = HANDSHAKE_S
    ) -> None:
        self._gate = gate
        self._tls = tls
        self._deadline_s = deadline_s
        self.pending: dict[int, Pending] = {}
        """By the connection's fd."""

    def start(self, conn: socket.socket, address: Any) -> Pending | None:
        """Take an accepted connection in (None: refused at once, it is closed)."""
        peer = _peer_text(address)
        if len(self.pending) >= MAX_PENDING:
            logger.warning(
                "lane connection from %s refused: %d others are in their handshake", peer, MAX_PENDING
            )
            conn.close()
            return None
        try:
            conn.setblocking(False)
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)
                if (
                    user_timeout is not None
                ):  # a client gone silent fails a reply's send instead of hanging it
                    conn.setsockopt(socket.IPPROTO_TCP, user_timeout, UNACKED_LIMIT_MS)
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except OSError as exc:
            logger.warning("lane connection from %s failed: %s", peer, exc)
            conn.close()
            return None
        entry = Pending(conn, peer, time.monotonic() + self._deadline_s)
        self.pending[conn.fileno()] = entry
        return entry

    def advance(self, entry: Pending) -> bool | None:
        """Go on with a connection that became readable (or writable).

        Returns:
            True: admitted (blocking again, out of :attr:`pending`); False: refused and closed;
            None: still on its way.
        """
        conn = entry.conn
        entry.wants_write = False
        try:
            if isinstance(conn, ssl.SSLSocket) and not _handshake_done(conn):
                try:
                    conn.do_handshake()
                except ssl.SSLWantReadError:
                    return None
                except ssl.SSLWantWriteError:
                    entry.wants_write = True
                    return None
            presented = self._read_hello(entry)
            if presented is None:
                return None
            refused = self._gate.admit(presented)
            if refused is not None:
                return self._refuse(entry, refused)
            conn.settimeout(max(0.05, entry.deadline - time.monotonic()))
            conn.sendall(encode_accepted())
            conn.settimeout(None)
        except (OSError, ProtocolError, ValueError) as exc:
            return self._refuse(entry, f"{type(exc).__name__}: {exc}")
        del self.pending[conn.fileno()]
        logger.info("lane connection from %s admitted", entry.peer)
        return True

    def _read_hello(self, entry: Pending) -> bytes | None:
        """The secret once all of it came; None while it is coming.

        Raises:
            ConnectionError: The peer closed the connection first.
            FrameTooLargeError: The hello is longer than a secret can be.
        """
        while True:
            try:
                chunk = entry.conn.recv(entry.hello.missing())
            except (BlockingIOError, ssl.SSLWantReadError):
                return None
            if not chunk:
                raise ConnectionError("closed before presenting a secret")
            presented = entry.hello.feed(chunk)
            if presented is not None:
                return presented

    def _refuse(self, entry: Pending, why: str) -> bool:
        logger.warning("lane connection refused (%s), from %s", why, entry.peer)
        self.drop(entry)
        return False

    def drop(self, entry: Pending) -> None:
        """Forget a pending connection and close it."""
        with contextlib.suppress(KeyError, OSError, ValueError):
            del self.pending[entry.conn.fileno()]
        with contextlib.suppress(OSError):
            entry.conn.close()

    def overdue(self, now: float) -> list[Pending]:
        """The pending connections past their deadline (the caller unregisters them, then :meth:`expire`)."""
        return [entry for entry in self.pending.values() if entry.deadline <= now]

    def expire(self, entry: Pending) -> None:
        """Close a connection that took too long, saying so in the log."""
        self._refuse(entry, f"no secret within {self._deadline_s} s")

    def timeout(self, now: float) -> float | None:
        """Seconds until the next deadline (None when nothing is pending)."""
        if not self.pending:
            return None
        return max(0.0, min(entry.deadline for entry in self.pending.values()) - now)

    def close(self) -> None:
        """Close every pending connection."""
        for entry in list(self.pending.values()):
            self.drop(entry)


def _handshake_done(conn: ssl.SSLSocket) -> bool:
    return conn.version() is not None


def _peer_text(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "a local process"


def network_tls(network: dict[str, Any] | None) -> ssl.SSLContext | None:
    """The server's TLS context for a network lane over TLS (None: plaintext, or not a network lane)."""
    tls = network.get("tls") if network is not None else None
    if not tls:
        return None
    return server_ssl_context(tls["cert"], tls["key"], tls.get("client_ca") or None)


def listen_tcp(host: str, ports: range) -> socket.socket:
    """A listening TCP socket on ``host`` at the first free port of ``ports`` (``range(0, 1)``: any).

    Raises:
        OSError: No port of the range is free (or ``host`` is not an address of this machine).
    """
    family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    last: OSError | None = None
    for port in ports:
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((host, port))
            listener.listen(2 * MAX_PENDING)  # a flood of silent connections does not delay the client's SYN
            return listener
        except OSError as exc:
            listener.close()
            last = exc
    raise last or OSError(f"no port to listen on in {ports}")


def peer_uid(conn: socket.socket) -> int | None:
    """The user id of a Unix socket's peer (Linux ``SO_PEERCRED``); None where the platform cannot tell."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _pid, uid, _gid = _PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    return int(uid)
