"""Which lane a new session is offered: the one rule of the same-host lane and the network lane."""

from __future__ import annotations

from typing import Any

from remote_gym.capabilities import CAP_LANE_TCP, CAP_NETWORK_LANE
from remote_gym.server.config import ServerConfig
from remote_gym.server.handlers.lane_spec import LaneSpec
from remote_gym.server.hosting.lane import LaneDirectory, is_local_peer


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
    network = config.network_lane
    assert not isinstance(network, str)  # ServerConfig parsed it
    tls: dict[str, Any] | None = None
    if config.tls is not None:
        ca = config.tls.client_ca
        tls = {"cert": str(config.tls.cert), "key": str(config.tls.key), "client_ca": str(ca) if ca else ""}
    return lanes.offer_network(
        address=network.announced,
        network={"bind": network.family_host, "ports": list(network.ports), "tls": tls},
        max_message_bytes=config.max_message_bytes,
        spin_us=config.spin_us,
    )
