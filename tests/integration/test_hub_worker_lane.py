"""Worker lanes of a dialing host: each session's worker opens its own frame stream to the hub.

The hub then sends the session's requests straight to the worker (the host's own stream carries the
make and the CloseRequest, and every request once the worker's stream broke). Real hub, real host
with worker processes, real sockets; cuts by a proxy the host and its workers dial through.
"""

from __future__ import annotations

import asyncio
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.utils.env_match import check_environments_match
from gymnasium.vector import AutoresetMode

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.client.config import ClientConfig
from remote_gym.hub import Hub, HubConfig
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.frame_stream import FrameStream
from tests.support.hub import HOST_TOKEN, dialing_host, wait_for_hosts
from tests.support.lockstep import same_vector
from tests.support.proxy import cutting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MIRROR = "127.0.0.3"
"""The proxy listens here at the hub's own port numbers, so the host and its workers cross it."""


def _hub(**options: Any) -> Hub:
    return Hub(HubConfig(port=0, host_tokens=(TokenAuth(HOST_TOKEN),), **options)).start()


def _row(hub: Hub, session_id: str) -> Any:
    return next(row for row in hub.stats().sessions if row.session_id == session_id)


def test_requests_cross_the_workers_own_stream_and_match_the_local_env() -> None:
    """Seeded trajectories equal the local env's; the host says its requests came on the hub lane."""
    hub = _hub()
    host = dialing_host(hub.address, "alpha", same_host_lane=False)
    try:
        wait_for_hosts(hub, ["alpha"])
        with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
            check_environments_match(
                gym.make("CartPole-v1"), remote, num_steps=300, seed=11, skip_render=True
            )
            row = _row(hub, remote.session_id)
        assert row.path == "hub-lane", row.path  # every request after the make crossed the worker's stream
        assert row.steps >= 300
        assert row.latency_p50_s > 0
    finally:
        host.stop(0.5)
        hub.stop(0.5)


def test_a_worker_hello_read_late_still_takes_the_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub reads every hello 50 ms late (as a loaded machine may): the trainer's first request after
    the make arrives before the worker's lane is known, waits for it, and crosses it (no request takes
    the host's stream)."""
    read_hello = FrameStream.read_hello

    async def late(stream: FrameStream) -> bytes | None:
        await asyncio.sleep(0.05)
        return await read_hello(stream)

    monkeypatch.setattr(FrameStream, "read_hello", late)
    hub = _hub()
    host = dialing_host(hub.address, "alpha", same_host_lane=False)
    try:
        wait_for_hosts(hub, ["alpha"])
        local = gym.make("CartPole-v1")
        for seed in (1, 2):  # two sessions: each one's first request waits for its own worker
            with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
                assert data_equivalence(remote.reset(seed=seed), local.reset(seed=seed), exact=True)
                for i in range(20):
                    assert data_equivalence(remote.step(i % 2), local.step(i % 2), exact=True)
                assert _row(hub, remote.session_id).path == "hub-lane"
    finally:
        host.stop(0.5)
        hub.stop(0.5)


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.value)
def test_a_vector_env_over_two_hosts_steps_on_their_workers_streams(mode: AutoresetMode) -> None:
    """One message per host per step, each on that host's worker stream; equal to SyncVectorEnv."""
    hub = _hub()
    hosts = [dialing_host(hub.address, name, same_host_lane=False) for name in ("east", "west")]
    try:
        wait_for_hosts(hub, ["east", "west"])
        with RemoteVectorEnv("CartPole-v1", 5, address=hub.address, autoreset_mode=mode) as remote:
            same_vector(remote, 5, mode, 80, seed=4, action_seed=4)
            rows = {row.host: row for row in hub.stats().sessions}
        assert set(rows) == {"east", "west"}
        assert {row.path for row in rows.values()} == {"hub-lane"}
        assert all(row.steps >= 80 for row in rows.values())
    finally:
        for host in hosts:
            host.stop(0.5)
        hub.stop(0.5)


@pytest.mark.parametrize("chunks", [1, 2, 3, 8, 13])
def test_a_cut_worker_stream_loses_and_repeats_no_step(chunks: int) -> None:
    """The worker's stream is reset after ``chunks`` chunks (a request in flight, or a reply): the
    request goes again on the host's stream, is applied once, and the session goes on there."""
    hub = _hub()
    host_address, port = hub.address.rsplit(":", 1)
    try:
        with cutting_proxy(host_address, int(port), mirror_host=MIRROR, also=(hub.frames_port,)) as proxy:
            host = dialing_host(f"{MIRROR}:{proxy.port}", "alpha", same_host_lane=False)
            try:
                wait_for_hosts(hub, ["alpha"])
                # Connections through the proxy: the host's attach, then per session the host's
                # frame stream and its worker's stream.
                lane = proxy.connections + 2
                proxy.cut_link_after(lane, chunks)
                local = gym.make("CartPole-v1")
                config = ClientConfig(same_host_lane=False)
                with RemoteEnvironment(address=hub.address, env="CartPole-v1", config=config) as remote:
                    assert data_equivalence(remote.reset(seed=5), local.reset(seed=5), exact=True)
                    for i in range(40):
                        action = (i * 7 // 3) % 2
                        want = local.step(action)
                        assert data_equivalence(remote.step(action), want, exact=True), f"step {i}"
                        if want[2] or want[3]:
                            assert data_equivalence(remote.reset(seed=i), local.reset(seed=i), exact=True)
                    row = _row(hub, remote.session_id)
                assert proxy.cuts == 1
                # Requests before the cut on the worker's stream (its first chunk is the hello), the
                # rest on the host's.
                paths = set(row.path.split("+"))
                assert paths == ({"hub-frames", "hub-lane"} if chunks > 1 else {"hub-frames"}), row.path
            finally:
                host.stop(0.5)
    finally:
        hub.stop(0.5)


def test_a_hub_without_worker_lanes_keeps_sessions_on_the_hosts_stream() -> None:
    """A host whose hub does not take workers' streams (frames off) opens none: one path, as before."""
    hub = _hub(frames=False)
    host = dialing_host(hub.address, "alpha", same_host_lane=False)
    try:
        wait_for_hosts(hub, ["alpha"])
        with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
            remote.reset(seed=0)
            for _ in range(5):
                remote.step(0)
            assert _row(hub, remote.session_id).path == "hub-grpc"
    finally:
        host.stop(0.5)
        hub.stop(0.5)
