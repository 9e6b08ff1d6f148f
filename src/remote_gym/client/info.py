"""server_info(): ask a server about itself without creating a session."""

from __future__ import annotations

from dataclasses import dataclass

from remote_gym.client.channel import server_peer
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
    kind: str = ""
    """``"gymnasium"`` or ``"pettingzoo"`` (open it with ``remote_gym.pettingzoo``); empty for an
    entrypoint file, or a server that does not say."""


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
    protocol_versions: tuple[int, int] = (0, 0)
    """The lowest and highest protocol versions the server speaks (a 1.0.0 server: its one version)."""
    capabilities: frozenset[str] = frozenset()
    """The named capabilities the server has (see remote_gym.capabilities; none for 1.0.0)."""
    draining: bool = False
    """True while the server drains (``serve --drain``): it takes no new session."""
    detached_sessions: int = 0
    """Sessions awaiting their client's resume (part of ``active_sessions``); they yield to new ones."""
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
    peer = server_peer(raw)
    return ServerInfo(
        server_version=raw.server_version,
        protocol_version=raw.protocol_version,
        environments=tuple(
            HostedEnvInfo(
                e.name, tuple(e.allowed_kwargs), e.is_default, e.repo or None, e.commit or None, e.kind
            )
            for e in raw.environments
        ),
        active_sessions=raw.active_sessions,
        max_sessions=raw.max_sessions,
        hosting=raw.hosting,
        same_host_lane=raw.same_host_lane,
        protocol_versions=(peer.min_version, peer.max_version),
        capabilities=peer.capabilities,
        draining=raw.draining,
        detached_sessions=raw.detached_sessions,
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
