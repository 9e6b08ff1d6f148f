"""The network lane's settings, and the one rule that picks a session's lane (no sockets: the namespaces test has those)."""

from __future__ import annotations

import pytest

from remote_gym.capabilities import CAP_LANE_TCP, CAP_NETWORK_LANE, CAPABILITIES
from remote_gym.client.config import ClientConfig
from remote_gym.client.lane import is_network_lane
from remote_gym.client.lane_slot import withhold_network_lane
from remote_gym.codec.requests import make_request
from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.hosting.lane import LaneDirectory
from remote_gym.server.lanes import lane_for
from remote_gym.server.network_lane import NetworkLaneConfig
from remote_gym.server.registry import make_entry
from remote_gym.transport.tls import ServerTLSConfig
from remote_gym.wire.handshake import REOPEN_WINDOW, SecretChain, derived_secret

ENTRIES = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)


@pytest.mark.parametrize(
    ("text", "announce", "ports"),
    [
        ("10.0.0.5", "10.0.0.5", (0, 0)),
        ("10.0.0.5:4000", "10.0.0.5", (4000, 4000)),
        ("env-host.example:4000-4099", "env-host.example", (4000, 4099)),
        ("[fd00::5]:4000-4001", "fd00::5", (4000, 4001)),
        ("fd00::5", "fd00::5", (0, 0)),
    ],
)
def test_parse(text: str, announce: str, ports: tuple[int, int]) -> None:
    lane = NetworkLaneConfig.parse(text)
    assert (lane.announce, lane.ports, lane.bind) == (announce, ports, announce)


@pytest.mark.parametrize("text", ["", "10.0.0.5:x", "10.0.0.5:5-4", "10.0.0.5:0-4", "10.0.0.5:70000"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ConfigError):
        NetworkLaneConfig.parse(text)


def test_announced_address_brackets_ipv6() -> None:
    assert NetworkLaneConfig(announce="fd00::5").announced == "[fd00::5]"
    assert NetworkLaneConfig(announce="10.0.0.5", bind="0.0.0.0").announced == "10.0.0.5"


def test_a_plaintext_server_needs_the_operators_word() -> None:
    with pytest.raises(ConfigError, match="plaintext"):
        ServerConfig(environments=ENTRIES, network_lane="10.0.0.5")
    assert ServerConfig(
        environments=ENTRIES, network_lane=NetworkLaneConfig(announce="10.0.0.5", plaintext=True)
    )
    with pytest.raises(ConfigError, match="hosting"):
        ServerConfig(
            environments=ENTRIES,
            hosting="inline",
            network_lane=NetworkLaneConfig(announce="a", plaintext=True),
        )
    with pytest.raises(ConfigError, match="dial"):
        ServerConfig(
            environments=ENTRIES,
            dial=("hub:1",),
            dial_name="east",
            dial_token="t",
            network_lane=NetworkLaneConfig(announce="a", plaintext=True),
        )
    assert ServerConfig(environments=ENTRIES).network_lane is None  # off by default


def _config(tls: ServerTLSConfig | None = None, **options: object) -> ServerConfig:
    lane = NetworkLaneConfig(announce="10.0.0.5", ports=(4000, 4009), plaintext=tls is None)
    return ServerConfig(environments=ENTRIES, tls=tls, network_lane=lane, **options)  # type: ignore[arg-type]


def test_the_one_rule() -> None:
    lanes = LaneDirectory("tcp")
    everything = frozenset(CAPABILITIES)
    local, remote = "ipv4:127.0.0.1:5000", "ipv4:10.0.0.9:5000"
    same_host = lane_for(_config(), lanes, "s1", local, everything)
    assert same_host is not None
    assert same_host.network is None
    assert same_host.path == "tcp:127.0.0.1:0"
    network = lane_for(_config(), lanes, "s2", remote, everything)
    assert network is not None
    assert network.path == "tcp:10.0.0.5:0"
    assert network.network == {"bind": "10.0.0.5", "ports": [4000, 4009], "tls": None}
    assert lane_for(_config(), lanes, "s3", remote, everything - {CAP_NETWORK_LANE}) is None
    assert lane_for(_config(), lanes, "s4", local, everything - {CAP_LANE_TCP}) is None
    assert lane_for(_config(same_host_lane=False), lanes, "s5", local, everything) is None
    assert lane_for(_config(same_host_lane=False), lanes, "s6", remote, everything) is not None
    plain = ServerConfig(environments=ENTRIES)
    assert lane_for(plain, lanes, "s7", remote, everything) is None
    assert lane_for(_config(), None, "s8", remote, everything) is None  # in-process hosting: no worker


def test_a_tls_server_offers_a_tls_lane_with_its_certificates() -> None:
    tls = ServerTLSConfig(cert="server.pem", key="server-key.pem", client_ca="ca.pem")
    offer = lane_for(_config(tls), LaneDirectory("tcp"), "s1", "ipv4:10.0.0.9:1", frozenset(CAPABILITIES))
    assert offer is not None
    assert offer.path == "tls:10.0.0.5:0"
    assert offer.network is not None
    assert offer.network["tls"] == {"cert": "server.pem", "key": "server-key.pem", "client_ca": "ca.pem"}


def test_which_addresses_are_network_lanes() -> None:
    assert is_network_lane("tls:10.0.0.5:4000")
    assert is_network_lane("tcp:10.0.0.5:4000")
    assert is_network_lane("tls:127.0.0.1:4000")  # TLS lanes are only ever network lanes
    assert not is_network_lane("tcp:127.0.0.1:4000")
    assert not is_network_lane("/tmp/lanes/abc.sock")


def test_a_client_without_the_network_lane_does_not_ask_for_it() -> None:
    request = make_request("CartPole-v1", kwargs_json="{}", render_mode=None, compression=True)
    withhold_network_lane(request, ClientConfig())
    assert CAP_NETWORK_LANE in request.make.capabilities
    withhold_network_lane(request, ClientConfig(network_lane=False))
    assert CAP_NETWORK_LANE not in request.make.capabilities
    assert CAP_LANE_TCP in request.make.capabilities


def test_a_network_lane_takes_each_of_its_secrets_once() -> None:
    """The session's secret first, then derived ones in increasing order (gaps allowed: cut attempts)."""
    master = bytes(range(32))
    chain = SecretChain(master)
    assert chain.admit(b"x" * 32) == "wrong secret"
    assert chain.admit(derived_secret(master, 0)) is None
    assert chain.admit(master) == "its secret was used already"
    assert chain.admit(derived_secret(master, 3)) is None  # attempts 1 and 2 never reached the worker
    assert chain.admit(derived_secret(master, 2)) == "its secret was used already"
    assert chain.admit(derived_secret(master, 4 + REOPEN_WINDOW)) == "wrong secret"  # too far ahead
    assert chain.admit(derived_secret(master, 4)) is None
    assert derived_secret(master, 5) != derived_secret(bytes(32), 5)
    chain.close()
    assert chain.admit(derived_secret(master, 5)) == "the lane is closed"
