"""The gRPC process's side of the same-host lane: whom to offer it, and the private directory of its sockets."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from remote_gym.capabilities import CAP_LANE_TCP, CAP_NETWORK_LANE
from remote_gym.server.handlers.lane import TCP_HOST, TCP_PREFIX, TLS_PREFIX, LaneSpec

if TYPE_CHECKING:
    from remote_gym.server.config import ServerConfig

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

    def offer_network(self, config: ServerConfig) -> LaneSpec:
        """A network lane for a client on another host: the announced address, the port range, and TLS
        with the server's certificates unless the server is plaintext (``ServerConfig.network_lane``)."""
        network = config.network_lane
        assert network is not None and not isinstance(network, str)
        tls: dict[str, Any] | None = None
        if config.tls is not None:
            ca = config.tls.client_ca
            tls = {
                "cert": str(config.tls.cert),
                "key": str(config.tls.key),
                "client_ca": str(ca) if ca else "",
            }
        return LaneSpec(
            path=f"{TLS_PREFIX if tls else TCP_PREFIX}{network.announced}:0",
            secret=secrets.token_hex(32),
            max_message_bytes=config.max_message_bytes,
            spin_us=config.spin_us,
            network={"bind": network.family_host, "ports": list(network.ports), "tls": tls},
        )

    def remove(self) -> None:
        """Delete the directory and any socket left in it."""
        if self.path:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.path)


def lane_for(
    config: ServerConfig,
    lanes: LaneDirectory | None,
    session_id: str,
    peer: str,
    capabilities: frozenset[str],
) -> LaneSpec | None:
    """The lane to offer a new session, if any: the one rule of both lanes.

    A client on this host (over loopback or a Unix socket) gets the same-host lane when
    ``same_host_lane`` is on (a TCP one only if it has ``lane_tcp``); a client on another host gets
    the network lane when ``network_lane`` is set and it has ``network_lane`` (a client whose
    ``ClientConfig.network_lane`` is off does not say it has). Anyone else stays on gRPC.
    """
    if lanes is None:
        return None
    if is_local_peer(peer):
        if not config.same_host_lane or (lanes.transport == "tcp" and CAP_LANE_TCP not in capabilities):
            return None
        return lanes.offer(session_id, max_message_bytes=config.max_message_bytes, spin_us=config.spin_us)
    if config.network_lane is None or CAP_NETWORK_LANE not in capabilities:
        return None
    return lanes.offer_network(config)
