"""The gRPC process's side of the same-host lane: whom to offer it, and the private directory of its sockets."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from typing import Any

from remote_gym.server.handlers.lane_spec import HUB_PATH, TCP_HOST, TCP_PREFIX, TLS_PREFIX, LaneSpec

_LOOPBACK_PEERS = ("ipv4:127.", "ipv6:[::1]", "ipv6:[::ffff:127.", "unix:")


def is_local_peer(peer: str) -> bool:
    """Whether a gRPC peer (``context.peer()``) connected over loopback or a Unix socket.

    Only such a client can be on this machine; it still uses the lane only if it can open the
    socket path, which only the server's user can.
    """
    return peer.startswith(_LOOPBACK_PEERS)


class LaneDirectory:
    """Where the workers' lanes listen: a directory only the server's user can enter (0700), holding
    each session's Unix socket; or, with ``transport="tcp"``, a loopback port each worker picks."""

    def __init__(self, transport: str = "unix") -> None:
        self.transport = transport
        """``"unix"`` or ``"tcp"`` (offered only to clients with the ``lane_tcp`` capability)."""
        self.path = ""
        if transport == "unix":
            self.path = tempfile.mkdtemp(prefix="remote-gym-lanes-")
            os.chmod(self.path, 0o700)  # mkdtemp already does; said explicitly because security rests on it

    def offer(self, session_id: str, *, max_message_bytes: int, spin_us: float) -> LaneSpec:
        """A socket path (or ``tcp:127.0.0.1:0``) and a new one-time secret for session ``session_id``."""
        path = os.path.join(self.path, f"{session_id}.sock") if self.path else f"{TCP_PREFIX}{TCP_HOST}:0"
        return LaneSpec(
            path=path,
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
        )

    def offer_network(
        self, *, address: str, network: dict[str, Any], max_message_bytes: int, spin_us: float
    ) -> LaneSpec:
        """A network lane for a client on another host: ``address`` is the announced one (``tls:`` when
        ``network["tls"]`` has the server's certificate paths, else ``tcp:``); see ``LaneSpec.network``."""
        return LaneSpec(
            path=f"{TLS_PREFIX if network.get('tls') else TCP_PREFIX}{address}:0",
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
            network=network,
        )

    def offer_dial(self, dial: dict[str, Any], *, max_message_bytes: int, spin_us: float) -> LaneSpec:
        """A lane the worker opens to the hub that routes the session (see ``LaneSpec.dial``)."""
        return LaneSpec(
            path=HUB_PATH,
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
            dial=dial,
        )

    def remove(self) -> None:
        """Delete the directory and any socket left in it."""
        if self.path:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.path)
