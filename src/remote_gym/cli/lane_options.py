"""The `serve --network-lane` options: a direct stream for trainers on other hosts."""

from __future__ import annotations

import argparse

from remote_gym.server.config import ServerConfig
from remote_gym.server.network_lane import NetworkLaneConfig


def add_network_lane_arguments(parser: argparse.ArgumentParser) -> None:
    """``serve``'s ``--network-lane``, ``--network-lane-bind`` and ``--network-lane-plaintext``."""
    group = parser.add_argument_group("network lane (trainers on other hosts step straight to the worker)")
    group.add_argument(
        "--network-lane",
        default=None,
        metavar="ADDR[:LO-HI]",
        help="offer clients on other hosts a direct stream to their session's worker: the address they "
        "reach this host at, and the ports workers may listen on (default: any free one); TLS with "
        "--cert/--key (mTLS with --ca). Off by default",
    )
    group.add_argument(
        "--network-lane-bind",
        default="",
        metavar="ADDR",
        help="the local address workers listen on (default: the announced one; 0.0.0.0 behind NAT)",
    )
    group.add_argument(
        "--network-lane-plaintext",
        action="store_true",
        help="allow --network-lane on a server without TLS (steps travel readable: a trusted network only)",
    )


def network_lane(args: argparse.Namespace) -> NetworkLaneConfig | None:
    """The network lane the flags describe (None: off)."""
    if not args.network_lane:
        return None
    return NetworkLaneConfig.parse(
        args.network_lane, bind=args.network_lane_bind, plaintext=args.network_lane_plaintext
    )


def describe_network_lane(config: ServerConfig) -> str:
    """The serve banner's words for the network lane ("" when it is off)."""
    lane = config.network_lane
    if lane is None or isinstance(lane, str):
        return ""
    ports = "any port" if lane.ports == (0, 0) else f"ports {lane.ports[0]}-{lane.ports[1]}"
    return f", network lane at {lane.announced} ({ports}, {'TLS' if config.tls else 'plaintext'})"
