"""The server's side of the version window: agree with a client's make request, and say its own window."""

from __future__ import annotations

from remote_gym.capabilities import Agreement, Peer, negotiate, this_release
from remote_gym.errors import InvalidCallError, ProtocolVersionError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb


def agree(make: pb.MakeRequest, peer: str) -> Agreement:
    """The protocol version and capabilities a session with the client that sent ``make`` uses.

    A client of release 1.0.0 sends no window: it speaks its ``protocol_version`` only, with no capability.

    Raises:
        InvalidCallError: The client's window and this server's do not overlap (the message names
            both releases and which to upgrade; a client of 1.1.0 or later notices it before it makes
            a session, from ``GetServerInfo``, and raises ProtocolVersionError itself).
    """
    client = Peer.from_wire(
        make.client_version,
        make.protocol_version,
        make.min_protocol_version,
        make.max_protocol_version,
        make.capabilities,
    )
    try:
        return negotiate(this_release(), client, we_are="this server", they_are=f"the client at {peer}")
    except ProtocolVersionError as exc:
        raise InvalidCallError(str(exc)) from exc


def stamp_window(message: pb.MakeResponse | pb.ServerInfo) -> None:
    """Write this release's window and capabilities into a make reply or the server's description."""
    ours = this_release()
    message.min_protocol_version = ours.min_version
    message.max_protocol_version = ours.max_version
    message.capabilities[:] = sorted(ours.capabilities)
