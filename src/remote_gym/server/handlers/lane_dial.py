"""A lane the worker opens itself: to the hub that routes its session, for a host that dials out.

Such a host listens nowhere, so nobody can connect to its workers; instead each new session's worker
connects to the hub's frames port, presents the hello the host was given for it (``"w"`` + the
session's carry id, which only the hub and the host know), and from then on answers the requests
the hub sends there, as a lane (:mod:`.lane`). The host's own stream to the hub stays the session's
other path: the CloseRequest takes it, and every request does once this connection breaks (the
worker's sequencer applies each request number once, whichever path brings it).
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from remote_gym.errors import ConfigError
from remote_gym.wire.handshake import encode_hello
from remote_gym.wire.tls import client_ssl_context

logger = logging.getLogger(__name__)

DIAL_TIMEOUT_S = 3.0
"""Seconds to connect to the hub (and finish TLS); after that the session keeps to the host's stream."""


def dial_lane(dial: dict[str, Any]) -> socket.socket:
    """Connect to the hub as ``dial`` says (``LaneSpec.dial``) and present the hello; the blocking socket.

    Raises:
        OSError: The hub could not be reached (ssl.SSLError: TLS failed).
        ConfigError: The TLS files cannot be read.
    """
    host, tls = dial["host"], dial.get("tls")
    sock = socket.create_connection((host, int(dial["port"])), timeout=DIAL_TIMEOUT_S)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            context = client_ssl_context(
                tls.get("ca") or None, tls.get("cert") or None, tls.get("key") or None
            )
            sock = context.wrap_socket(sock, server_hostname=tls.get("server_name") or host)
        sock.sendall(encode_hello(str(dial["hello"]).encode("ascii")))
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def redial(control: bytes) -> socket.socket | None:
    """The lane a ``{"op": "dial"}`` control message asks for (see :func:`dial_lane`); None, logged, if it
    cannot be opened (the session then keeps to the host's stream)."""
    try:
        dial = json.loads(control)["dial"]
        return dial_lane(dial)
    except (OSError, ConfigError, KeyError, TypeError, ValueError) as exc:
        logger.warning("cannot open a lane to the hub again: %s", exc)
        return None
