"""server_info(): ask a server about itself without creating a session."""

from __future__ import annotations

from dataclasses import dataclass

from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.connection import Connection, split_address
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig


@dataclass(frozen=True)
class HostedEnvInfo:
    """One environment a server hosts."""

    name: str
    allowed_kwargs: tuple[str, ...]
    is_default: bool
    repo: str | None = None
    """The operator's git repository of the env's code (``repo``/``reference``), else None."""
    commit: str | None = None
    """The commit of ``repo`` the server checked out (full SHA-1), else None."""


@dataclass(frozen=True)
class HubHostInfo:
    """One env host attached to a hub (``remote-gym serve --dial``), as the hub sees it."""

    name: str
    environments: tuple[str, ...]
    capacity: int
    """Sessions it accepts at once (0: unlimited)."""
    active_sessions: int
    state: str
    """``"attached"``, or ``"lost"`` (its link broke; its sessions wait for it to come back)."""
    state_age_s: float
    """Seconds in that state."""
    attaches: int
    """1 + the times it re-attached after a broken link."""


@dataclass(frozen=True)
class ServerInfo:
    """A server's description."""

    server_version: str
    protocol_version: int
    environments: tuple[HostedEnvInfo, ...]
    active_sessions: int
    max_sessions: int
    hosting: str
    same_host_lane: bool = False
    """Whether the server offers same-host lanes (clients on its machine then skip its gRPC process)."""
    hosts: tuple[HubHostInfo, ...] = ()
    """On a hub (``hosting == "hub"``): the env hosts attached to it; empty on a plain server."""


def server_info(
    address: str,
    *,
    tls: TLSConfig | None = None,
    token: str | TokenAuth | None = None,
    timeouts: Timeouts | None = None,
) -> ServerInfo:
    """Connect to ``address`` (``"host:port"``), read the server's description and disconnect.

    Raises:
        ConnectError: The server could not be reached within ``timeouts.connect``.
        AuthenticationError: The server wants a token (or another one).
    """
    host, port = split_address(address)
    auth = TokenAuth(token) if isinstance(token, str) else token
    connection = Connection(
        host, port, tls=tls, config=ClientConfig(timeouts=timeouts or Timeouts()), auth=auth
    )
    try:
        raw = connection.server_info
    finally:
        connection.close()
    return ServerInfo(
        server_version=raw.server_version,
        protocol_version=raw.protocol_version,
        environments=tuple(
            HostedEnvInfo(e.name, tuple(e.allowed_kwargs), e.is_default, e.repo or None, e.commit or None)
            for e in raw.environments
        ),
        active_sessions=raw.active_sessions,
        max_sessions=raw.max_sessions,
        hosting=raw.hosting,
        same_host_lane=raw.same_host_lane,
        hosts=tuple(
            HubHostInfo(
                h.name,
                tuple(e.name for e in h.environments),
                h.capacity,
                h.active_sessions,
                h.state,
                h.state_age_s,
                h.attaches,
            )
            for h in raw.hub_hosts
        ),
    )
