"""The version window: negotiation, peers of release 1.0.0, refusals that name both releases."""

from __future__ import annotations

import pytest

from remote_gym import capabilities
from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.capabilities import CAP_DRAINING, Peer, negotiate, this_release
from remote_gym.errors import (
    ConnectionLostError,
    ProtocolVersionError,
    ServerDrainingError,
    ServerShutdownError,
    SessionEvictedError,
    SessionExpiredError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.endings import draining_refusal, ending_error
from remote_gym.server.sessions import EndReason, SessionRecord
from remote_gym.server.versions import agree


def _peer(low: int, high: int, caps: set[str] | None = None, release: str = "9.9.9") -> Peer:
    return Peer(release, low, high, frozenset(caps or ()))


def test_single_version_fields_carry_the_window_s_lowest() -> None:
    """What 1.0.0 compares with its own version is the lowest of this release's window."""
    assert PROTOCOL_VERSION == capabilities.MIN_PROTOCOL_VERSION <= capabilities.MAX_PROTOCOL_VERSION


def test_highest_common_version_and_shared_capabilities() -> None:
    """Both sides use the highest version in both windows and only capabilities both have."""
    agreement = negotiate(_peer(1, 3, {"a", "b"}), _peer(2, 5, {"b", "c"}), we_are="us", they_are="them")
    assert (agreement.version, agreement.capabilities) == (3, frozenset({"b"}))


def test_a_1_0_peer_speaks_its_one_version_without_capabilities() -> None:
    """A message without a window (release 1.0.0) is window [v, v], no capability, whatever else it says."""
    peer = Peer.from_wire("", 1, 0, 0, ["draining"])
    assert (peer.min_version, peer.max_version, peer.capabilities) == (1, 1, frozenset())
    assert negotiate(this_release(), peer, we_are="us", they_are="them").capabilities == frozenset()


@pytest.mark.parametrize(
    ("ours", "theirs", "upgrade"),
    [((1, 1), (2, 3), "upgrade this client to remote-gym 9.9.9"), ((4, 5), (2, 3), "upgrade the server")],
    ids=["client-older", "server-older"],
)
def test_windows_apart_name_both_releases_and_what_to_upgrade(
    ours: tuple[int, int], theirs: tuple[int, int], upgrade: str
) -> None:
    """Windows that do not overlap raise ProtocolVersionError naming both releases and the side to upgrade."""
    with pytest.raises(ProtocolVersionError) as raised:
        negotiate(_peer(*ours, release="1.1.0"), _peer(*theirs), we_are="this client", they_are="the server")
    message = str(raised.value)
    assert "remote-gym 1.1.0" in message
    assert "remote-gym 9.9.9" in message
    assert upgrade in message


def test_server_agrees_with_a_1_0_make_request() -> None:
    """A make request of release 1.0.0 (only protocol_version) is served, without capabilities."""
    agreement = agree(pb.MakeRequest(protocol_version=1), "ipv4:127.0.0.1:1")
    assert (agreement.version, agreement.capabilities) == (1, frozenset())


@pytest.mark.parametrize(
    ("caps", "expected"),
    [(frozenset({CAP_DRAINING}), ServerDrainingError), (frozenset(), ServerShutdownError)],
    ids=["with-capability", "release-1.0"],
)
def test_drain_errors_take_the_form_the_client_knows(caps: frozenset[str], expected: type) -> None:
    """A client without the draining capability learns of a drain as a shutdown, with the same words."""
    record = SessionRecord("s", "CartPole-v1", "peer", capabilities=caps, ending=EndReason.DRAINING)
    for error in (ending_error(record, None), draining_refusal(caps)):
        assert type(error) is expected
        assert "draining" in str(error)


def test_session_evicted_error_is_both_expired_and_lost() -> None:
    """Code that catches SessionExpiredError or ConnectionLostError catches an eviction too."""
    assert issubclass(SessionEvictedError, SessionExpiredError)
    assert issubclass(SessionEvictedError, ConnectionLostError)


def test_every_cap_constant_is_a_capability() -> None:
    """CAPABILITIES holds exactly the module's CAP_ constants, and their names are distinct snake_case."""
    constants = [v for k, v in vars(capabilities).items() if k.startswith("CAP_")]
    assert frozenset(constants) == capabilities.CAPABILITIES
    assert len(set(constants)) == len(constants)
    assert all(name.isidentifier() and name == name.lower() for name in constants)
