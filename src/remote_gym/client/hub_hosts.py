"""Sessions through a hub: pin a host (``"NAME@hub:port"``), and spread a vector env over a hub's hosts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from remote_gym.client.channel import split_address
from remote_gym.client.config import ClientConfig
from remote_gym.client.connection import Connection
from remote_gym.client.vector_hosts import VectorHost
from remote_gym.client.vector_recovery import Resolver
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

PIN_SEPARATOR = "@"


def split_pin(address: str) -> tuple[str, str]:
    """``("NAME", "hub:port")`` for ``"NAME@hub:port"`` (a session pinned to host NAME of that hub); ``("", address)`` otherwise."""
    if address.startswith("unix:") or PIN_SEPARATOR not in address:
        return "", address
    pin, _, rest = address.partition(PIN_SEPARATOR)
    return pin, rest


def hub_hosts_offering(info: pb.ServerInfo, env: str | None) -> list[str]:
    """Names of the attached hosts of a hub (``info``) that offer ``env`` (None: any); empty for a plain server."""
    return [
        host.name
        for host in info.hub_hosts
        if host.state == "attached" and (not env or any(e.name == env for e in host.environments))
    ]


def spread_over_hub(
    address: str, env: str | None, tls: TLSConfig | None, auth: TokenAuth | None, config: ClientConfig
) -> list[str]:
    """``address`` itself, or, when it is a hub, one pinned address per attached host offering ``env``.

    Asks the server once to describe itself (what a connection does first anyway).
    """
    pin, bare = split_pin(address)
    if pin:
        return [address]
    host, port = split_address(bare)
    connection = Connection(host, port, tls=tls, config=config, auth=auth)
    try:
        names = hub_hosts_offering(connection.server_info, env)
    finally:
        connection.close()
    return [f"{name}{PIN_SEPARATOR}{bare}" for name in names] or [address]


def apply_pins(addresses: Sequence[str], requests: Sequence[pb.Request]) -> list[str]:
    """Put each address's pin in its make request; the addresses without their pins."""
    bare = []
    for address, request in zip(addresses, requests, strict=True):
        pin, rest = split_pin(address)
        if pin:
            request.make.hub_host = pin
        bare.append(rest)
    return bare


def hub_resolver(hosts: Callable[[], Sequence[VectorHost]], hub: str) -> Resolver:
    """Restart mode over a hub: a lost host's sub-envs are re-created on whichever attached host the
    hub picks (the pin to the lost one is dropped)."""

    def resolve(index: int, lost: str) -> str:
        hosts()[index].make.make.hub_host = ""
        return hub

    return resolve
