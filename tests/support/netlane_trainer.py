"""The trainer of the network-lane tests, run in the other namespace: ``python -m tests.support.netlane_trainer``.

Arguments: a JSON object with the servers' addresses (``tls``, ``mtls``, ``plain``, ``grpc``, ``cut``)
and the certificate directory. Prints one JSON object of what it found; any wrong result is an
AssertionError (exit code 1).
"""

from __future__ import annotations

import json
import pathlib
import select
import socket
import ssl
import sys
import tempfile
import time
from typing import Any

import gymnasium as gym
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode

from remote_gym import ClientConfig, RemoteEnvironment, RemoteVectorEnv, TLSConfig
from remote_gym.client import lane_slot
from remote_gym.client.lane import Lane, LaneSecurity
from remote_gym.client.stats import StatsClient
from remote_gym.transport.certs import generate_dev_certs
from remote_gym.wire.handshake import encode_hello
from tests.support.lockstep import same_vector


def same_episodes(remote: Any, steps: int, seed: int) -> None:
    """``remote`` steps exactly as a local CartPole does, resets included."""
    local = gym.make("CartPole-v1")
    assert data_equivalence(remote.reset(seed=seed), local.reset(seed=seed), exact=True)
    for i in range(steps):
        action = (i * 7 + seed) % 3 % 2
        expected = local.step(action)
        assert data_equivalence(remote.step(action), expected, exact=True), (seed, i)
        if expected[2] or expected[3]:
            assert data_equivalence(remote.reset(seed=seed + i), local.reset(seed=seed + i), exact=True)


def path_of(env: Any) -> str:
    return str(env.unwrapped._connection.path)


def offer_of(env: Any) -> tuple[str, bytes]:
    return env.unwrapped._connection._lane_offer  # type: ignore[no-any-return]


def present(path: str, payload: bytes, tls: ssl.SSLContext | None = None, server_name: str = "") -> bytes:
    """Connect to a lane, send ``payload``, return what comes back (b"": closed without a word;
    b"unverified": this side refused the server's certificate)."""
    host, port = path[4:].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5.0) as raw:
        try:
            sock = tls.wrap_socket(raw, server_hostname=server_name or host) if tls is not None else raw
            sock.sendall(payload)
            return sock.recv(64)
        except ssl.SSLCertVerificationError:  # this side refused the server
            return b"unverified"
        except (ssl.SSLError, ConnectionError):
            return b""


def check_tls(servers: dict[str, str], certs: pathlib.Path) -> dict[str, Any]:
    tls = TLSConfig(ca=certs / "ca.pem")
    found: dict[str, Any] = {}
    with RemoteEnvironment(address=servers["tls"], env="CartPole-v1", tls=tls) as remote:
        found["tls_path"] = path_of(remote)
        path, secret = offer_of(remote)
        found["tls_offer"] = path.rsplit(":", 1)[0]
        # The client checks the lane's server as gRPC does: another CA, or another name, is refused.
        other_ca = generate_dev_certs(tempfile.mkdtemp(), ip_addresses=(path[4:].rsplit(":", 1)[0],)).ca
        untrusted = TLSConfig(ca=other_ca).ssl_context()
        found["tls_other_ca"] = present(path, encode_hello(secret), untrusted)
        found["tls_other_name"] = present(path, encode_hello(secret), tls.ssl_context(), "other.example")
        same_episodes(remote, 300, seed=1)
        with StatsClient(servers["tls"], tls=tls) as stats:
            found["top_paths"] = sorted(s.path for s in stats.fetch().sessions)
    with RemoteEnvironment(
        address=servers["tls"], env="CartPole-v1", tls=tls, config=ClientConfig(network_lane=False)
    ) as remote:
        found["opted_out"] = path_of(remote)
        assert not offer_of(remote)[0]
        same_episodes(remote, 30, seed=2)
    for mode in AutoresetMode:
        with RemoteVectorEnv(
            "CartPole-v1", 4, address=servers["tls"], tls=tls, autoreset_mode=mode
        ) as remote:
            found[f"vector_{mode.value}"] = sorted({h.connection.path for h in remote._hosts})
            same_vector(remote, 4, mode, 60)
    # Over two hosts: one with the network lane (TLS), one without (gRPC only).
    with RemoteVectorEnv(
        "CartPole-v1", 4, address=[servers["tls"], servers["grpc"]], tls=[tls, None]
    ) as remote:
        found["mixed"] = sorted(h.connection.path for h in remote._hosts)
        same_vector(remote, 4, AutoresetMode.NEXT_STEP, 60)
    return found


def check_mtls(servers: dict[str, str], certs: pathlib.Path) -> dict[str, Any]:
    tls = TLSConfig(ca=certs / "ca.pem", cert=certs / "client.pem", key=certs / "client-key.pem")
    found: dict[str, Any] = {}
    with RemoteEnvironment(address=servers["mtls"], env="CartPole-v1", tls=tls) as remote:
        found["mtls_path"] = path_of(remote)
        same_episodes(remote, 100, seed=3)
    original = lane_slot.LaneSlot.take_offer
    lane_slot.LaneSlot.take_offer = lambda *args: None  # type: ignore[method-assign]  # keep the offer unused
    try:
        with RemoteEnvironment(address=servers["mtls"], env="CartPole-v1", tls=tls) as remote:
            path, secret = offer_of(remote)
            no_cert = TLSConfig(ca=certs / "ca.pem").ssl_context()
            found["mtls_no_client_cert"] = present(path, encode_hello(secret), no_cert, "localhost")
            same_episodes(remote, 20, seed=4)  # the session is unharmed
    finally:
        lane_slot.LaneSlot.take_offer = original  # type: ignore[method-assign]
    return found


def check_attacks(servers: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    address = servers["plain"]
    original = lane_slot.LaneSlot.take_offer
    with RemoteEnvironment(address=address, env="CartPole-v1") as bystander:
        found["plain_path"] = path_of(bystander)
        local = gym.make("CartPole-v1")
        assert data_equivalence(bystander.reset(seed=5), local.reset(seed=5), exact=True)
        lane_slot.LaneSlot.take_offer = lambda *args: None  # type: ignore[method-assign]
        try:
            victim = RemoteEnvironment(address=address, env="CartPole-v1")
        finally:
            lane_slot.LaneSlot.take_offer = original  # type: ignore[method-assign]
        with victim:
            path, secret = offer_of(victim)
            found["wrong"] = present(path, encode_hello(b"x" * len(secret)))
            found["garbage"] = present(path, b"\xff" * 64)
            lane = Lane.open(path, secret, 5.0, security=LaneSecurity())
            found["right"] = lane is not None
            found["replay"] = present(path, encode_hello(secret))
            # Slow-loris: connections that say nothing (one a part of a hello), more than may wait.
            silent, opened = [], []
            for _ in range(10):
                silent.append(socket.create_connection(_host_port(path), timeout=5.0))
                opened.append(time.monotonic())
            silent[0].sendall(encode_hello(secret)[:3])
            slowest = 0.0
            for i in range(200):  # meanwhile both sessions step as before
                t0 = time.monotonic()
                expected = local.step(i % 2)
                assert data_equivalence(bystander.step(i % 2), expected, exact=True)
                slowest = max(slowest, time.monotonic() - t0)
                if expected[2] or expected[3]:
                    assert data_equivalence(bystander.reset(seed=i), local.reset(seed=i), exact=True)
            same_episodes(victim, 50, seed=6)
            found["silent_closed_after_s"] = _closed_after(silent, opened, 8.0)
            found["slowest_step_s"] = slowest
            if lane is not None:
                lane.close()
    return found


def _host_port(path: str) -> tuple[str, int]:
    host, port = path[4:].rsplit(":", 1)
    return host, int(port)


def _closed_after(socks: list[socket.socket], opened: list[float], limit: float) -> list[float | None]:
    """Seconds from each connection's opening to the worker closing it (None: still open after ``limit``)."""
    closed: list[float | None] = [None] * len(socks)
    deadline = time.monotonic() + limit
    while None in closed and time.monotonic() < deadline:
        waiting = [sock for sock, at in zip(socks, closed, strict=True) if at is None]
        for sock in select.select(waiting, [], [], 0.05)[0]:
            try:
                ended = sock.recv(1) == b""
            except ConnectionError:
                ended = True
            if ended:
                i = socks.index(sock)
                closed[i] = round(time.monotonic() - opened[i], 2)
    for sock in socks:
        sock.close()
    return closed


def check_cuts(servers: dict[str, str], sessions: int) -> dict[str, Any]:
    """Sessions whose lane a proxy cuts at a random point: every result right, none lost."""
    ends: dict[str, int] = {}
    for k in range(sessions):
        with RemoteEnvironment(address=servers["cut"], env="CartPole-v1") as remote:
            start = path_of(remote)
            same_episodes(remote, 150, seed=100 + k)
            ends[f"{start}->{path_of(remote)}"] = ends.get(f"{start}->{path_of(remote)}", 0) + 1
    with RemoteVectorEnv("CartPole-v1", 3, address=servers["cut"]) as remote:
        same_vector(remote, 3, AutoresetMode.NEXT_STEP, 40)
        ends[f"vector->{remote._hosts[0].connection.path}"] = 1
    return {"cut_sessions": ends}


def main() -> None:
    servers = json.loads(sys.argv[1])
    certs = pathlib.Path(sys.argv[2])
    found = {**check_tls(servers, certs), **check_mtls(servers, certs), **check_attacks(servers)}
    found.update(check_cuts(servers, int(sys.argv[3])))
    print(json.dumps(found, default=lambda b: b.decode("latin-1")))


if __name__ == "__main__":
    main()
