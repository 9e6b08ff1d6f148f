"""The hub's host table: attach, names, routing by room, pins (no network: the table is plain data)."""

from __future__ import annotations

import pytest

from remote_gym.errors import AuthenticationError, EnvNotFoundError, HostNotFoundError, ServerBusyError
from remote_gym.hub.hosts import HostTable
from remote_gym.protocol.v1 import remote_gym_pb2 as pb


def _attach(
    name: str, envs: tuple[str, ...] = ("CartPole-v1",), capacity: int = 2, secret: bytes = b""
) -> pb.HubAttach:
    return pb.HubAttach(
        name=name, capacity=capacity, secret=secret, environments=[pb.HostedEnv(name=e) for e in envs]
    )


def test_routes_to_the_host_with_most_room_then_refuses_when_full() -> None:
    table = HostTable(grace_s=1.0)
    a = table.attach(_attach("a", capacity=2), "ipv4:10.0.0.1:1", object())
    b = table.attach(_attach("b", capacity=3), "ipv4:10.0.0.2:1", object())
    assert table.route("CartPole-v1", "") is b
    b.active = 2
    assert table.route("CartPole-v1", "") is a
    a.active, b.active = 2, 3
    with pytest.raises(ServerBusyError, match=r"a \(2/2\), b \(3/3\)"):
        table.route("CartPole-v1", "")


def test_pins_and_unknown_names() -> None:
    table = HostTable(grace_s=1.0)
    table.attach(_attach("a", ("CartPole-v1", "Acrobot-v1")), "ipv4:10.0.0.1:1", object())
    table.attach(_attach("b"), "ipv4:10.0.0.2:1", object())
    assert table.route("", "b").name == "b"  # the default environment of the pinned host
    assert table.route("Acrobot-v1", "").name == "a"
    with pytest.raises(EnvNotFoundError, match="it hosts CartPole-v1"):
        table.route("Acrobot-v1", "b")
    with pytest.raises(
        HostNotFoundError, match=r"attached: a \(CartPole-v1, Acrobot-v1\); b \(CartPole-v1\)"
    ):
        table.route("CartPole-v1", "c")


def test_a_name_is_taken_over_only_with_its_secret() -> None:
    table = HostTable(grace_s=1.0)
    first = table.attach(_attach("a"), "ipv4:10.0.0.1:1", object())
    with pytest.raises(AuthenticationError, match="already attached"):
        table.attach(_attach("a"), "ipv4:10.0.0.9:1", object())
    with pytest.raises(AuthenticationError):
        table.attach(_attach("a", secret=b"x" * 32), "ipv4:10.0.0.9:1", object())
    again = table.attach(_attach("a", secret=first.secret), "ipv4:10.0.0.3:1", object())
    assert again is first
    assert (again.attaches, again.peer) == (2, "ipv4:10.0.0.3:1")
