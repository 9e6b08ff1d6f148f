"""Faults between a hub and its hosts: cut links, killed hosts, a restarted hub, hosts coming and going."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import SyncVectorEnv

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.capabilities import CAP_HUB_FRAMES
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.errors import ConnectionLostError, HostGoneError
from remote_gym.hub import Hub, HubConfig
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server import dial
from remote_gym.server.dial import ATTACH_METHOD
from remote_gym.transport.auth import TokenAuth
from remote_gym.vector.restarts import RESTARTED_KEY
from tests.support.hub import HOST_TOKEN, dialing_host, hub_with_hosts, wait_for_hosts
from tests.support.proxy import cutting_proxy

MIRROR = "127.0.0.2"
"""The proxies listen here at the hub's own port numbers, so a host's frame streams cross them too."""

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _hub(**options: Any) -> Hub:
    return Hub(HubConfig(port=0, host_tokens=(TokenAuth(HOST_TOKEN),), **options)).start()


def _lock_step(remote: gym.Env, local: gym.Env, steps: int) -> int:
    """Step both with the same actions; the number of episodes run."""
    assert data_equivalence(remote.reset(seed=7), local.reset(seed=7), exact=True)
    episodes = 0
    for i in range(steps):
        action = i % 2 if i % 5 else 0
        expected = local.step(action)
        assert data_equivalence(remote.step(action), expected, exact=True), f"step {i}"
        if expected[2] or expected[3]:
            episodes += 1
            assert data_equivalence(remote.reset(seed=i), local.reset(seed=i), exact=True)
    return episodes


def test_random_link_cuts_between_hub_and_host_keep_every_trajectory() -> None:
    """0 wrong results, 0 lost sessions: the host re-dials, proves it is itself, sessions resume."""
    hub = _hub()
    host, port = hub.address.rsplit(":", 1)
    try:
        with cutting_proxy(host, int(port), mirror_host=MIRROR, also=(hub.frames_port,)) as proxy:
            server = dialing_host(
                f"{MIRROR}:{proxy.port}", "alpha", same_host_lane=False
            )  # steps cross the hub
            try:
                wait_for_hosts(hub, ["alpha"])
                stop = threading.Event()

                def cutter() -> None:
                    rnd = random.Random(3)
                    while not stop.wait(rnd.uniform(0.05, 0.3)):
                        proxy.cut()

                thread = threading.Thread(target=cutter)
                local = gym.make("CartPole-v1")
                with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
                    assert remote.unwrapped._connection.path == "grpc"
                    assert [relayed.path for relayed in hub.figures.open] == ["hub-frames"]
                    thread.start()
                    try:
                        episodes = _lock_step(remote, local, 1000)
                    finally:
                        stop.set()
                        thread.join()
                alpha = next(h for h in hub.info().hub_hosts if h.name == "alpha")
                print(
                    f"\n{proxy.cuts} cuts, {alpha.attaches} attaches, {episodes} episodes: trajectory identical"
                )
                assert proxy.cuts >= 3
                assert alpha.attaches >= 3
            finally:
                server.stop(0.5)
    finally:
        hub.stop(0.5)


def test_random_link_cuts_keep_a_vector_env_over_two_hosts_equal_to_sync() -> None:
    """Both hosts' links cut at random while a vector env spread over them steps: it equals SyncVectorEnv."""
    hub = _hub()
    host, port = hub.address.rsplit(":", 1)
    try:
        with cutting_proxy(host, int(port), mirror_host=MIRROR, also=(hub.frames_port,)) as proxy:
            servers = [
                dialing_host(f"{MIRROR}:{proxy.port}", name, same_host_lane=False)
                for name in ("east", "west")
            ]
            try:
                wait_for_hosts(hub, ["east", "west"])
                local = SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 4)
                with RemoteVectorEnv("CartPole-v1", 4, address=hub.address) as remote:
                    assert data_equivalence(remote.reset(seed=2), local.reset(seed=2), exact=True)
                    rng = np.random.default_rng(5)
                    proxy.cut_randomly(40, 200, seed=4)
                    for _ in range(250):
                        actions = rng.integers(0, 2, size=4)
                        assert data_equivalence(remote.step(actions), local.step(actions), exact=True)
                    proxy.stop_cutting()
                print(f"\nvector env over 2 hosts: {proxy.cuts} cuts, every step equal to SyncVectorEnv")
                assert proxy.cuts >= 3
            finally:
                for server in servers:
                    server.stop(0.5)
    finally:
        hub.stop(0.5)


def test_session_resumes_within_2_s_of_the_link_coming_back() -> None:
    hub = _hub()
    host, port = hub.address.rsplit(":", 1)
    try:
        with cutting_proxy(host, int(port), mirror_host=MIRROR, also=(hub.frames_port,)) as proxy:
            server = dialing_host(
                f"{MIRROR}:{proxy.port}", "alpha", same_host_lane=False
            )  # steps cross the hub
            try:
                wait_for_hosts(hub, ["alpha"])
                took = []
                with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
                    remote.reset(seed=0)
                    for i in range(6):  # again and again: the host's re-dial backoff starts over each time
                        remote.step(i % 2)
                        proxy.cut()
                        start = time.perf_counter()
                        remote.step(i % 2)
                        took.append(time.perf_counter() - start)
                print("\nsteps across a cut link: " + ", ".join(f"{t:.3f}" for t in took) + " s")
                assert max(took) < 2.0
            finally:
                server.stop(0.5)
    finally:
        hub.stop(0.5)


def _serve_process(hub_address: str, name: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "remote_gym", "serve", "CartPole-v1", "--dial", hub_address]
    command += ["--name", name, "--dial-token", HOST_TOKEN]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_host_fails_its_sessions_with_an_error_naming_it() -> None:
    hub = _hub(host_grace_s=2.0)
    process = _serve_process(hub.address, "doomed")
    try:
        wait_for_hosts(hub, ["doomed"], timeout=60)
        config = ClientConfig(resume_s=10.0, timeouts=Timeouts(connect=5, call=10))
        with RemoteEnvironment(address=hub.address, env="CartPole-v1", config=config) as remote:
            remote.reset(seed=0)
            os.kill(process.pid, signal.SIGKILL)
            start = time.perf_counter()
            with pytest.raises(ConnectionLostError, match="doomed") as lost:
                _step_until_it_fails(remote)
            took = time.perf_counter() - start
        print(f"\nkilled host noticed after {took:.2f} s: {lost.value}")
        assert isinstance(lost.value.__cause__, HostGoneError)
        assert took < 10.0
    finally:
        process.kill()
        process.wait()
        hub.stop(0.5)


def _step_until_it_fails(env: gym.Env) -> None:
    for _ in range(100):
        env.step(0)
        env.reset()


def test_restart_mode_vector_env_continues_on_the_other_host() -> None:
    hub = _hub(host_grace_s=1.0)
    doomed = _serve_process(hub.address, "doomed")
    survivor = dialing_host(hub.address, "survivor")
    try:
        wait_for_hosts(hub, ["doomed", "survivor"], timeout=60)
        config = ClientConfig(resume_s=5.0, timeouts=Timeouts(connect=5, call=10))
        with RemoteVectorEnv(
            "CartPole-v1", 4, address=hub.address, on_env_failure="restart", config=config
        ) as envs:
            envs.reset(seed=0)
            assert {h.name: h.active_sessions for h in hub.info().hub_hosts} == {"doomed": 1, "survivor": 1}
            os.kill(doomed.pid, signal.SIGKILL)
            restarted = np.zeros(4, dtype=bool)
            for _ in range(20):
                obs, *_, infos = envs.step(np.zeros(4, dtype=np.int64))
                restarted |= infos.get(RESTARTED_KEY, np.zeros(4, dtype=bool))
            assert obs.shape == (4, 4)
            assert restarted.tolist() in (
                [True, True, False, False],
                [False, False, True, True],
            )  # doomed's half
            active = {h.name: h.active_sessions for h in hub.info().hub_hosts if h.state == "attached"}
            assert active == {"survivor": 2}
    finally:
        doomed.kill()
        doomed.wait()
        survivor.stop(0.5)
        hub.stop(0.5)


def test_hosts_re_attach_to_a_restarted_hub_and_serve_two_hubs() -> None:
    first = _hub()
    second = _hub()
    server = dialing_host([first.address, second.address], "both")
    try:
        wait_for_hosts(first, ["both"])
        wait_for_hosts(second, ["both"])
        for hub in (first, second):
            with RemoteEnvironment(address=hub.address, env="CartPole-v1") as env:
                env.reset(seed=0)
        port = first.port
        first.stop(0.2)
        with RemoteEnvironment(
            address=second.address, env="CartPole-v1"
        ) as env:  # no single point of failure
            env.reset(seed=0)
        restarted = Hub(HubConfig(port=port, host_tokens=(TokenAuth(HOST_TOKEN),))).start()
        try:
            wait_for_hosts(restarted, ["both"], timeout=20)
            with RemoteEnvironment(address=restarted.address, env="CartPole-v1") as env:
                env.reset(seed=0)
        finally:
            restarted.stop(0.2)
    finally:
        server.stop(0.5)
        second.stop(0.2)


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_200_hosts_attaching_and_leaving_leave_nothing_behind() -> None:
    hub = _hub(host_grace_s=0.0)
    try:
        token = TokenAuth(HOST_TOKEN).metadata()

        def attach_and_leave(i: int) -> None:
            with grpc.insecure_channel(hub.address) as channel:
                hello = pb.HubHostMessage(
                    attach=pb.HubAttach(
                        name=f"h{i}", capacity=1, environments=[pb.HostedEnv(name="CartPole-v1")]
                    )
                )
                call = channel.stream_stream(ATTACH_METHOD)(iter([hello.SerializeToString()]), metadata=token)
                assert pb.HubControl.FromString(next(call)).WhichOneof("kind") == "attached"
                call.cancel()

        for i in range(20):  # warm up allocators and gRPC's pools
            attach_and_leave(i)
        time.sleep(0.5)
        assert hub._loop is not None
        idle_tasks = len(asyncio_tasks(hub))
        before = _rss_mb()
        for i in range(200):
            attach_and_leave(i)
        deadline = time.monotonic() + 10
        while (len(hub.hosts) or len(asyncio_tasks(hub)) > idle_tasks) and time.monotonic() < deadline:
            time.sleep(0.05)
        after = _rss_mb()
        print(
            f"\n200 attach/leave: RSS {before:.1f} -> {after:.1f} MB, tasks {idle_tasks} -> {len(asyncio_tasks(hub))}"
        )
        assert len(hub.hosts) == 0
        assert len(asyncio_tasks(hub)) <= idle_tasks
        assert after - before < 20
    finally:
        hub.stop(0.2)


def asyncio_tasks(hub: Hub) -> set[Any]:
    """The hub loop's pending tasks."""
    import asyncio

    assert hub._loop is not None
    return asyncio.run_coroutine_threadsafe(_tasks(), hub._loop).result(5)


async def _tasks() -> set[Any]:
    import asyncio

    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def test_sessions_take_grpc_carry_streams_where_frames_cannot_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub with frames off, a host of a release without frames (capability ``hub_frames``), and a host
    that cannot reach the hub's frames port (only the gRPC port is forwarded to it): sessions cross on
    Carry streams, and still equal the local env."""
    with hub_with_hosts(("plain",), frames=False) as (hub, _):
        assert hub.frames_port == 0
        with RemoteEnvironment(address=hub.address, env="CartPole-v1", host="plain") as remote:
            assert [relayed.path for relayed in hub.figures.open] == ["hub-grpc"]
            _lock_step(remote, gym.make("CartPole-v1"), 60)
    with monkeypatch.context() as patch:
        patch.setattr(dial, "CAPABILITIES", dial.CAPABILITIES - {CAP_HUB_FRAMES})
        with hub_with_hosts(("older",)) as (hub, _):
            assert hub.frames_port > 0
            with RemoteEnvironment(address=hub.address, env="CartPole-v1", host="older") as remote:
                assert [relayed.path for relayed in hub.figures.open] == ["hub-grpc"]
                _lock_step(remote, gym.make("CartPole-v1"), 30)
    hub = _hub()
    host, port = hub.address.rsplit(":", 1)
    try:
        with cutting_proxy(host, int(port), mirror_host=MIRROR) as proxy:  # the gRPC port only
            server = dialing_host(f"{MIRROR}:{proxy.port}", "walled", same_host_lane=False)
            try:
                wait_for_hosts(hub, ["walled"])
                for _ in range(2):  # the first finds the port closed; the next does not try again
                    with RemoteEnvironment(address=hub.address, env="CartPole-v1") as remote:
                        assert [relayed.path for relayed in hub.figures.open] == ["hub-grpc"]
                        _lock_step(remote, gym.make("CartPole-v1"), 60)
            finally:
                server.stop(0.5)
    finally:
        hub.stop(0.5)
