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
    hub_lane: dict[str, Any] | None = None,
) -> LaneSpec | None:
    """The lane to offer a new session, if any: the one rule of both lanes.

    A client on this host (over loopback or a Unix socket) gets the same-host lane when
    ``same_host_lane`` is on (a TCP one only if it has ``lane_tcp``); a client on another host gets
    the network lane when ``network_lane`` is set and it has ``network_lane`` (a client whose
    ``ClientConfig.network_lane`` is off does not say it has). A session a hub routes to this host
    (which dials out) gets, where it gets neither, a lane its worker opens to the hub (``hub_lane``,
    see ``LaneSpec.dial``); the trainer is not told of it. Anyone else stays on gRPC.
    """
    if lanes is None:
        return None
    local = is_local_peer(peer)
    if local and config.same_host_lane and (lanes.transport != "tcp" or CAP_LANE_TCP in capabilities):
        return lanes.offer(session_id, max_message_bytes=config.max_message_bytes, spin_us=config.spin_us)
    if hub_lane is not None:
        return lanes.offer_dial(hub_lane, max_message_bytes=config.max_message_bytes, spin_us=config.spin_us)
    if local:
        return None
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


def lane_name(lane: LaneSpec | None) -> str:
    """How a session's lane shows in its path (the stats, ``top``, the page): lane, network-lane or hub-lane."""
    if lane is not None and lane.dial is not None:
        return "hub-lane"
    return "network-lane" if lane is not None and lane.network else "lane"
