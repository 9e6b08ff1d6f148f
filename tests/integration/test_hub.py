"""Sessions through a hub to hosts that dial out: routing, pinning, vector spreading, refusals."""

from __future__ import annotations

import logging
import queue
import socket
import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym import RemoteEnvironment, RemoteVectorEnv, server_info
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.stats import StatsClient
from remote_gym.errors import AuthenticationError, HostNotFoundError, InvalidCallError, RemoteGymError
from remote_gym.hub import Hub, HubConfig
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.dial import ATTACH_METHOD
from remote_gym.server.server import EnvServer
from remote_gym.transport import frame_stream
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.certs import CertPaths
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig
from remote_gym.wire.handshake import encode_hello
from tests.support.hub import HOST_TOKEN, dialing_host, hub_with_hosts, wait_for_hosts
from tests.support.lockstep import same_vector

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[Hub, list[EnvServer]]]:
    """A hub with hosts alpha (CartPole, Acrobot) and beta (CartPole)."""
    with hub_with_hosts(("alpha",), ("CartPole-v1", "Acrobot-v1")) as (hub, hosts):
        hosts.append(dialing_host(hub.address, "beta", ("CartPole-v1",)))
        wait_for_hosts(hub, ["alpha", "beta"])
        yield hub, hosts


def _lock_step(remote: gym.Env, local: gym.Env, steps: int, seed: int = 3) -> None:
    assert data_equivalence(remote.reset(seed=seed), local.reset(seed=seed), exact=True)
    rng = np.random.default_rng(seed)
    for i in range(steps):
        action = local.action_space.sample() if i % 7 else int(rng.integers(0, 2))
        expected = local.step(action)
        assert data_equivalence(remote.step(action), expected, exact=True)
        if expected[2] or expected[3]:
            assert data_equivalence(remote.reset(seed=i), local.reset(seed=i), exact=True)


@pytest.mark.parametrize("pin", [None, "alpha", "beta"])
def test_single_env_through_the_hub_equals_the_local_env(
    hub: tuple[Hub, list[EnvServer]], pin: str | None
) -> None:
    address = hub[0].address
    local = gym.make("CartPole-v1")
    local.action_space.seed(0)
    with RemoteEnvironment(address=address, env="CartPole-v1", host=pin) as remote:
        remote.action_space.seed(0)
        _lock_step(remote, local, 300)
        # Trainer, hub and host on one machine (all on loopback): the host offers its same-host lane.
        assert remote.unwrapped._connection.path == "lane"
        if pin is not None:  # the pinned host holds the session
            rows = {h.name: h.active_sessions for h in hub[0].info().hub_hosts}
            assert rows[pin] == 1


def test_pinned_env_only_one_host_offers(hub: tuple[Hub, list[EnvServer]]) -> None:
    local = gym.make("Acrobot-v1")
    local.action_space.seed(1)
    with RemoteEnvironment(address=hub[0].address, env="Acrobot-v1") as remote:
        remote.action_space.seed(1)
        _lock_step(remote, local, 100)
        assert {h.name: h.active_sessions for h in hub[0].info().hub_hosts} == {"alpha": 1, "beta": 0}


def test_server_info_lists_hosts_envs_and_capacity(hub: tuple[Hub, list[EnvServer]]) -> None:
    info = server_info(hub[0].address)
    assert info.hosting == "hub"
    assert [e.name for e in info.environments] == ["CartPole-v1", "Acrobot-v1"]
    raw = hub[0].info()
    rows = {h.name: h for h in raw.hub_hosts}
    assert set(rows) == {"alpha", "beta"}
    assert [e.name for e in rows["alpha"].environments] == ["CartPole-v1", "Acrobot-v1"]
    assert (rows["beta"].capacity, rows["beta"].state, rows["beta"].attaches) == (256, "attached", 1)
    assert raw.max_sessions == 512


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.value)
def test_vector_env_spreads_over_every_host_and_equals_sync(
    hub: tuple[Hub, list[EnvServer]], mode: AutoresetMode
) -> None:
    with RemoteVectorEnv("CartPole-v1", 5, address=hub[0].address, autoreset_mode=mode) as remote:
        assert {h.name: h.active_sessions for h in hub[0].info().hub_hosts} == {"alpha": 1, "beta": 1}
        same_vector(remote, 5, mode, 60, seed=11, action_seed=2)


def test_unknown_host_or_env_lists_what_is_attached(hub: tuple[Hub, list[EnvServer]]) -> None:
    with pytest.raises(HostNotFoundError, match=r"no host named 'gamma'.*alpha \(CartPole-v1, Acrobot-v1\)"):
        RemoteEnvironment(address=hub[0].address, env="CartPole-v1", host="gamma")
    with pytest.raises(HostNotFoundError, match=r"no attached host offers environment 'Pong'.*beta"):
        RemoteEnvironment(address=hub[0].address, env="Pong")


def test_garbage_from_a_trainer_is_refused(hub: tuple[Hub, list[EnvServer]]) -> None:
    with grpc.insecure_channel(hub[0].address) as channel:
        session = channel.stream_stream("/remote_gym.v1.RemoteGym/Session")
        replies = list(session(iter([b"\xff\x00garbage"])))
    error = pb.Response.FromString(replies[0]).error
    assert error.reason == InvalidCallError.reason
    assert "malformed" in error.message
    with RemoteEnvironment(address=hub[0].address, env="CartPole-v1") as env:  # nothing else disturbed
        env.reset(seed=0)


def test_wrong_host_token_and_garbage_attach_are_refused_and_logged(
    hub: tuple[Hub, list[EnvServer]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="remote_gym")
    intruder = dialing_host(hub[0].address, "intruder", dial_token="not-the-token")
    try:
        with grpc.insecure_channel(hub[0].address) as channel:  # right token, garbage attach
            attach = channel.stream_stream(ATTACH_METHOD)
            replies = list(attach(iter([b"\x0a\x03\xff\xfe"]), metadata=TokenAuth(HOST_TOKEN).metadata()))
            assert pb.HubControl.FromString(replies[0]).error.reason == InvalidCallError.reason
        with pytest.raises(grpc.RpcError) as refused, grpc.insecure_channel(hub[0].address) as channel:
            list(channel.stream_stream(ATTACH_METHOD)(iter([b""]), metadata=(("authorization", "Bearer x"),)))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        intruder.stop(0.2)
    names = {h.name for h in hub[0].info().hub_hosts}
    assert names == {"alpha", "beta"}
    assert "refused a host" in caplog.text
    with RemoteEnvironment(address=hub[0].address, env="CartPole-v1") as env:
        env.reset(seed=0)


def test_bad_frame_streams_are_closed_and_logged_while_a_session_steps_on(
    hub: tuple[Hub, list[EnvServer]], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong or replayed carry id, garbage, an oversized hello, a silent connection: closed, logged, and
    the session stepping through the hub meanwhile notices nothing."""
    caplog.set_level(logging.INFO, logger="remote_gym")
    monkeypatch.setattr(frame_stream, "HELLO_TIMEOUT_S", 0.5)
    frames = ("127.0.0.1", hub[0].frames_port)
    local = gym.make("CartPole-v1")
    with RemoteEnvironment(address=hub[0].address, env="CartPole-v1") as remote:
        assert data_equivalence(remote.reset(seed=1), local.reset(seed=1), exact=True)
        for attempt in (
            encode_hello(b"0" * 32),  # an id no session waits for (a replayed one is the same: used once)
            b"\xff" * 64,  # garbage: a header announcing 4 GB
            encode_hello(b"x" * 1000),  # a hello over the limit
            b"",  # a slow loris: sends nothing
        ):
            with socket.create_connection(frames, timeout=5) as sock:
                sock.sendall(attempt)
                start = time.monotonic()
                assert sock.recv(1) == b""  # closed by the hub
                assert time.monotonic() - start < 3
            expected = local.step(0)
            assert data_equivalence(remote.step(0), expected, exact=True)
            if expected[2]:
                assert data_equivalence(remote.reset(seed=2), local.reset(seed=2), exact=True)
    assert caplog.text.count("refused a frame stream") >= 2
    assert "no hello in time" in caplog.text
    assert "over the limit" in caplog.text


def test_a_different_host_cannot_take_a_name_in_use(
    hub: tuple[Hub, list[EnvServer]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="remote_gym")
    impostor = dialing_host(hub[0].address, "alpha")
    try:
        with grpc.insecure_channel(hub[0].address) as channel:
            attach = channel.stream_stream(ATTACH_METHOD)
            hello = pb.HubHostMessage(
                attach=pb.HubAttach(name="alpha", environments=[pb.HostedEnv(name="X")])
            )
            replies = list(
                attach(iter([hello.SerializeToString()]), metadata=TokenAuth(HOST_TOKEN).metadata())
            )
        error = pb.HubControl.FromString(replies[0]).error
        assert error.reason == AuthenticationError.reason
        assert "already attached" in error.message
    finally:
        impostor.stop(0.2)
    alpha = next(h for h in hub[0].info().hub_hosts if h.name == "alpha")
    assert (alpha.attaches, alpha.state) == (1, "attached")
    assert "already attached" in caplog.text


def test_trainer_token_is_checked_by_the_hub() -> None:
    with hub_with_hosts(("solo",), tokens=(TokenAuth("trainer-token"),)) as (hub, _):
        config = ClientConfig(timeouts=Timeouts(connect=5))
        with pytest.raises(AuthenticationError):
            RemoteEnvironment(address=hub.address, env="CartPole-v1", config=config)
        with RemoteEnvironment(address=hub.address, env="CartPole-v1", token="trainer-token") as env:
            env.reset(seed=0)


def test_stats_of_a_hub_show_its_sessions_by_host_and_its_hosts(hub: tuple[Hub, list[EnvServer]]) -> None:
    """What `remote-gym top` and scripts read from a hub: relayed sessions (with their host), totals, per-host metrics."""
    with (
        RemoteEnvironment(
            address=hub[0].address, env="CartPole-v1", host="beta", config=ClientConfig(same_host_lane=False)
        ) as env,
        StatsClient(hub[0].address) as client,
    ):
        env.reset(seed=0)
        for _ in range(5):
            env.step(0)
        before = client.fetch()
    row = next(r for r in before.sessions if r.session_id)
    assert row.env == "CartPole-v1"
    assert row.peer.endswith("-> host beta")
    assert (row.steps, row.resets) == (5, 1)
    assert row.received_bytes > 0
    assert row.sent_bytes > 0
    assert before.monitoring
    assert 'remote_gym_hub_host_attached{host="beta"} 1' in before.metrics_text
    assert 'remote_gym_hub_host_sessions{host="beta"} 1' in before.metrics_text


def _raw_attach(channel: grpc.Channel, name: str, secret: bytes = b"") -> tuple[Any, pb.HubControl]:
    hello = pb.HubHostMessage(
        attach=pb.HubAttach(name=name, secret=secret, environments=[pb.HostedEnv(name="CartPole-v1")])
    )
    requests: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    requests.put(hello.SerializeToString())
    call = channel.stream_stream(ATTACH_METHOD)(
        iter(requests.get, None), metadata=TokenAuth(HOST_TOKEN).metadata()
    )
    return call, pb.HubControl.FromString(next(call))


def test_the_same_host_replaces_its_stale_link_before_the_hub_notices(
    hub: tuple[Hub, list[EnvServer]],
) -> None:
    """A re-dial with the attach secret takes over the name while the old link still looks alive."""
    with (
        grpc.insecure_channel(hub[0].address) as old_channel,
        grpc.insecure_channel(hub[0].address) as new_channel,
    ):
        old, attached = _raw_attach(old_channel, "phoenix")
        secret = attached.attached.secret
        assert len(secret) == 32
        _, refused = _raw_attach(new_channel, "phoenix", b"wrong-secret")
        assert refused.error.reason == AuthenticationError.reason
        new, again = _raw_attach(new_channel, "phoenix", secret)
        assert again.WhichOneof("kind") == "attached"
        assert list(old) == []  # the hub ended the stale link itself
        phoenix = next(h for h in hub[0].info().hub_hosts if h.name == "phoenix")
        assert (phoenix.state, phoenix.attaches) == ("attached", 2)
        new.cancel()
    wait_for_hosts(hub[0], ["phoenix"], state="lost")


def test_mutual_tls_on_both_links(tls_material: CertPaths) -> None:
    """Hosts and trainers both present client certificates to a hub that asks for them."""
    server_tls = ServerTLSConfig(
        cert=tls_material.server_cert, key=tls_material.server_key, client_ca=tls_material.ca
    )
    client_tls = TLSConfig(ca=tls_material.ca, cert=tls_material.client_cert, key=tls_material.client_key)
    hub = Hub(HubConfig(port=0, tls=server_tls, host_tokens=(TokenAuth(HOST_TOKEN),))).start()
    try:
        host = dialing_host(hub.address, "secure", dial_tls=client_tls, same_host_lane=False)
        try:
            wait_for_hosts(hub, ["secure"])
            with RemoteEnvironment(address=hub.address, env="CartPole-v1", tls=client_tls) as env:
                env.reset(seed=0)
                env.step(0)
                assert [relayed.path for relayed in hub.figures.open] == ["hub-frames"]  # over TLS
                # The worker, too, presented the host's client certificate on its own stream.
                row = next(row for row in hub.stats().sessions if row.session_id == env.session_id)
                assert row.path == "hub-lane"
            no_cert = TLSConfig(ca=tls_material.ca)
            with pytest.raises(RemoteGymError):
                RemoteEnvironment(
                    address=hub.address,
                    env="CartPole-v1",
                    tls=no_cert,
                    config=ClientConfig(timeouts=Timeouts(connect=3)),
                )
        finally:
            host.stop(0.5)
    finally:
        hub.stop(0.5)
