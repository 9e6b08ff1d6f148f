"""The protocol versions and named capabilities this release speaks, and their negotiation with a peer.

Each side of a session supports a *window* of protocol versions and a set of named *capabilities*.
The make request says the client's, the make reply and ``GetServerInfo`` the server's; both sides then
use the highest version in both windows and only the capabilities both have (:func:`negotiate`).

- A **protocol version** changes when the meaning of an existing message or field changes. Release
  1.0.0 spoke version 1 and had no window: a peer that sends no window (its ``max_protocol_version``
  is 0) speaks ``[protocol_version, protocol_version]`` and has no capabilities. Every release keeps
  writing the lowest version of its window into the single-version fields (``protocol_version``),
  which is what 1.0.0 compares with its own.
- A **capability** is anything added to the wire since 1.0.0: a new field, message, error reason or
  behaviour a peer must know of before relying on it. Code sends or expects it only when the
  negotiated set has it (``CAP_X in session.capabilities``); a peer without it simply never sees it.

Adding a capability is a one-line change: a module-level constant ``CAP_<NAME> = "<snake_case name>"``
below (with a docstring saying what it adds and what a peer without it gets); every ``CAP_`` constant
is in :data:`CAPABILITIES`. Say in CHANGELOG.md which release added it. Never rename or reuse a name:
peers of other releases compare them as strings. A new protocol version raises
``MAX_PROTOCOL_VERSION``; dropping an old one raises ``MIN_PROTOCOL_VERSION`` and is a major release.

Imports only the bottom layer (errors, _version): every layer may import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from remote_gym._version import __version__
from remote_gym.errors import ProtocolVersionError

MIN_PROTOCOL_VERSION = 1
"""Lowest protocol version this release speaks (also what it writes in single-version fields)."""

MAX_PROTOCOL_VERSION = 1
"""Highest protocol version this release speaks."""

CAP_SESSION_EVICTED = "session_evicted"
"""Error reason ``SESSION_EVICTED`` (:class:`~remote_gym.errors.SessionEvictedError`): a detached session
ended to make room for a new one. Peers without it get ``SESSION`` (SessionExpiredError)."""

CAP_DRAINING = "draining"
"""Error reason ``DRAINING`` (:class:`~remote_gym.errors.ServerDrainingError`) and ``ServerInfo.draining``.
Peers without it get ``SHUTDOWN`` (ServerShutdownError)."""

CAP_PETTINGZOO = "pettingzoo"
"""Multi-agent (PettingZoo Parallel and AEC) sessions: ``MakeRequest.multi_agent`` and the messages it
brings (``MakeResponse.multi_agent``, ``agents_state`` of reset and step replies, ``HostedEnv.kind``)."""

CAP_HUB = "hub"
"""Hubs and hosts that dial out to them: ``MakeRequest.hub_host`` (a pinned host), ``Response.hub_end``,
``ServerInfo.hub_hosts``, the ``HOST_NOT_FOUND`` / ``HOST_GONE`` reasons and the ``RemoteGymHub``
service. A hub says it is one with ``ServerInfo.hosting == "hub"``; a client pins a host only there."""

CAP_HUB_STATS = "hub_stats"
"""A hub's GetStats and metrics show each host's own figures: ``HubAttach.capabilities``, the hub's
``HubStatsAsk`` and the host's ``HubStatsReply`` on the Attach stream, ``ServerStats.hub_hosts`` and
``SessionStats.host``. A hub asks only hosts that announced it; older hosts show as ``missing``."""

CAP_LANE_TCP = "lane_tcp"
"""A same-host lane over loopback TCP: ``MakeResponse.lane_path`` of the form ``tcp:127.0.0.1:PORT``
(servers whose workers are spawned, or ``lane_transport="tcp"``). A server offers such a lane only to
a client that has it; a client of 1.0.0 knows Unix socket paths only."""

CAP_HUB_FRAMES = "hub_frames"
"""A hub's sessions travel to a host over a frame stream: ``HubAttached.frames_port`` (the port of the
hub's frame listener, beside its gRPC port), to which the host opens a TCP (TLS when the hub serves
TLS) connection per routed session, presenting the ``HubOpen.carry_id`` as its hello. A host or hub
without it carries every session on a gRPC ``Carry`` stream, as does a host that cannot reach the port."""

CAP_NETWORK_LANE = "network_lane"
"""A lane for a client on another host: ``MakeResponse.lane_path`` of the form ``tcp:ADDRESS:PORT``
(plaintext, where the operator allowed it) or ``tls:ADDRESS:PORT`` (TLS with the gRPC server's
certificates; the client checks the server's name as gRPC does). A server offers it only to a client
that has it and is not on the server's host; a client leaves it out of its make request when its
``ClientConfig.network_lane`` is off."""

CAP_VECTOR_ASYNC = "vector_async"
"""Asynchronous vector stepping: ``Request.async_step`` / ``Response.async_step`` (VectorAsyncStep*),
the send/recv of ``RemoteVectorEnv(batch_size=M)``. A client uses it only against a server that has
it; against one without it, ``batch_size < num_envs`` is refused at construction (ConfigError)."""

CAP_HUB_WORKER_LANES = "hub_worker_lanes"
"""A hub takes a routed session's requests from the host's worker directly: ``HubAttached.worker_lanes``
(set for a host that has this capability, when the hub has frames). The host then has each new
session's worker open its own frame stream to the hub's frames port, presenting ``"w"`` + the
``HubOpen.carry_id`` as its hello; the hub sends the session's requests there (the CloseRequest
through the host's stream), and the host's stream stays the session's path whenever that one breaks."""

# Capabilities of other work add their CAP_ constants above this line.

CAPABILITIES: frozenset[str] = frozenset(
    value for name, value in dict(globals()).items() if name.startswith("CAP_") and isinstance(value, str)
)
"""Every capability this release has: the values of this module's ``CAP_`` constants."""


@dataclass(frozen=True)
class Peer:
    """What one side of a session says it speaks."""

    release: str
    """Its remote-gym version ("" when it did not say: release 1.0.0 clients do not)."""
    min_version: int
    max_version: int
    capabilities: frozenset[str]

    @classmethod
    def from_wire(
        cls,
        release: str,
        legacy_version: int,
        min_version: int,
        max_version: int,
        capabilities: Iterable[str],
    ) -> Peer:
        """The peer a message describes; without a window (release 1.0.0) it speaks only ``legacy_version``."""
        if max_version <= 0:
            return cls(release, legacy_version, legacy_version, frozenset())
        return cls(release, min_version, max_version, frozenset(capabilities))

    def describe(self, role: str) -> str:
        """E.g. ``"the server (remote-gym 1.0.0, protocol 1)"``."""
        release = f"remote-gym {self.release}" if self.release else "a remote-gym release of 1.0.0 or before"
        versions = (
            str(self.min_version)
            if self.min_version == self.max_version
            else f"{self.min_version}-{self.max_version}"
        )
        return f"{role} ({release}, protocol {versions})"


def this_release() -> Peer:
    """This package's side."""
    return Peer(__version__, MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION, CAPABILITIES)


@dataclass(frozen=True)
class Agreement:
    """What two sides use: the highest common protocol version and the capabilities both have."""

    version: int
    capabilities: frozenset[str]


def negotiate(ours: Peer, theirs: Peer, *, we_are: str, they_are: str) -> Agreement:
    """The highest protocol version in both windows, and the capabilities both sides have.

    Args:
        ours: This side (usually :func:`this_release`).
        theirs: The peer, as its message describes it (:meth:`Peer.from_wire`).
        we_are: How to name this side in an error (``"this client"``, ``"this server"``).
        they_are: How to name the peer (``"the server at host:port"``, ``"the client at ..."``).

    Raises:
        ProtocolVersionError: The windows do not overlap; the message names both releases and
            which one to upgrade.
    """
    version = min(ours.max_version, theirs.max_version)
    if version < max(ours.min_version, theirs.min_version):
        older, newer = (
            ((we_are, ours), (they_are, theirs))
            if ours.max_version < theirs.min_version
            else ((they_are, theirs), (we_are, ours))
        )
        target = f"remote-gym {newer[1].release}" if newer[1].release else "a newer remote-gym release"
        raise ProtocolVersionError(
            f"{ours.describe(we_are)} and {theirs.describe(they_are)} share no protocol version: "
            f"upgrade {older[0]} to {target} (or any release whose window includes protocol "
            f"{newer[1].min_version})"
        )
    return Agreement(version, ours.capabilities & theirs.capabilities)
