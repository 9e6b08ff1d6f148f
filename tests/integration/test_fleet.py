"""Fleets that change: capacity that recovers at max_sessions, nothing held for a scanner, draining."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.client.info import server_info
from remote_gym.errors import ServerBusyError, ServerDrainingError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from tests.support.proxy import CuttingProxy, cutting_proxy
from tests.support.raw_session import make_and_vanish, try_resume

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - start


def _step_until_it_raises(env: RemoteEnvironment) -> None:
    while True:
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()


@contextlib.contextmanager
def _env_through_proxy(same_host_lane: bool) -> Iterator[tuple[EnvServer, CuttingProxy, RemoteEnvironment]]:
    """A server (worker processes), a cutting proxy in front of it, and a client env through the proxy."""
    with running_server(hosting="process", same_host_lane=same_host_lane) as server:
        host, port = server.address.rsplit(":", 1)
        with (
            cutting_proxy(host, int(port)) as proxy,
            RemoteEnvironment(address=f"127.0.0.1:{proxy.port}") as env,
        ):
            yield server, proxy, env


def test_detached_sessions_yield_to_new_ones_at_max_sessions() -> None:
    """A full server whose sessions' clients vanished after a reset takes new sessions at once."""
    with running_server(hosting="inline", max_sessions=2) as server:
        gone = [make_and_vanish(server.address, reset=True) for _ in range(2)]
        _wait_for(lambda: server_info(server.address).detached_sessions == 2)
        with RemoteEnvironment(address=server.address) as a, RemoteEnvironment(address=server.address) as b:
            a.reset(seed=0)
            b.reset(seed=1)
            assert server.active_sessions == 2
            evicted = try_resume(server.address, gone[0]).error
            assert evicted.reason == "SESSION_EVICTED", evicted
            assert "expired for capacity" in evicted.message
            old_client = try_resume(server.address, gone[1], as_release_1_0=True).error
            assert old_client.reason == "SESSION", old_client  # a 1.0.0 client knows no SESSION_EVICTED
            assert "expired for capacity" in old_client.message


def test_busy_error_counts_attached_and_detached_sessions() -> None:
    """With every session attached, a new one is refused with a ServerBusyError that counts them."""
    busy = r"1 attached \(0 of them being created\), 0 detached"
    with (
        running_server(hosting="inline", max_sessions=1) as server,
        RemoteEnvironment(address=server.address),
        pytest.raises(ServerBusyError, match=busy),
    ):
        RemoteEnvironment(address=server.address)


def test_a_session_never_reset_is_not_held() -> None:
    """A client that makes a session and vanishes without a reset holds no worker."""
    with running_server(hosting="process") as server:
        make_and_vanish(server.address, reset=False)
        assert _wait_for(lambda: server.active_sessions == 0) < 1.0


def test_a_session_reset_on_its_lane_is_held(same_host_lane: bool) -> None:
    """A session whose resets went over the lane (or gRPC) is held when its connection is cut, and resumes."""
    with _env_through_proxy(same_host_lane) as (server, proxy, env):
        local = gym.make("CartPole-v1")
        assert data_equivalence(env.reset(seed=4), local.reset(seed=4), exact=True)
        proxy.cut()
        _wait_for(lambda: server_info(server.address).detached_sessions == 1)
        assert data_equivalence(env.step(1), local.step(1), exact=True)  # resumed
        assert env._connection is not None
        assert env._connection.session_id == env.session_id


def test_a_client_cut_before_its_first_reset_makes_its_session_again(same_host_lane: bool) -> None:
    """Cut before any reset, the session is not held; the client makes it again and the trainer sees nothing."""
    with _env_through_proxy(same_host_lane) as (server, proxy, env):
        local = gym.make("CartPole-v1")
        assert env.get_wrapper_attr("gravity") == local.get_wrapper_attr("gravity")
        proxy.cut()
        _wait_for(lambda: server.active_sessions == 0)
        assert data_equivalence(env.reset(seed=5), local.reset(seed=5), exact=True)
        for _ in range(5):
            assert data_equivalence(env.step(0), local.step(0), exact=True)
        assert env._connection is not None
        assert env._connection.session_id != env.session_id
        assert server.active_sessions == 1


def test_drain_refuses_new_sessions_and_ends_open_ones_after_its_period() -> None:
    """While draining, open sessions step on, new ones are refused; at the period's end they get ServerDrainingError."""
    with (
        running_server(hosting="inline", grace=2.0) as server,
        RemoteEnvironment(address=server.address) as env,
    ):
        env.reset(seed=0)
        drainer = threading.Thread(target=server.drain, args=(1.0, 2.0))
        drainer.start()
        try:
            _wait_for(lambda: server_info(server.address).draining)
            with pytest.raises(ServerDrainingError, match="draining"):
                RemoteEnvironment(address=server.address)
            start = time.monotonic()
            with pytest.raises(ServerDrainingError, match="draining"):
                _step_until_it_raises(env)
            assert 0.9 < time.monotonic() - start < 3.0
        finally:
            drainer.join(10)


def test_a_vector_env_cut_before_its_first_reset_makes_its_session_again() -> None:
    """A vector session cut before any reset is made again too: its first reset equals a local vector env's."""
    with running_server(hosting="process") as server:
        host, port = server.address.rsplit(":", 1)
        with (
            cutting_proxy(host, int(port)) as proxy,
            RemoteVectorEnv("CartPole-v1", 2, address=f"127.0.0.1:{proxy.port}") as envs,
        ):
            local = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync")
            proxy.cut()
            _wait_for(lambda: server.active_sessions == 0)
            assert data_equivalence(envs.reset(seed=[1, 2]), local.reset(seed=[1, 2]), exact=True)
            assert data_equivalence(envs.step([0, 1]), local.step([0, 1]), exact=True)
            local.close()


def test_a_restart_mode_vector_env_moves_a_draining_servers_sub_envs_to_another() -> None:
    """When one of its servers drains, a restart-mode vector env re-creates that server's sub-envs on another."""
    with (
        running_server(hosting="inline", grace=2.0) as leaving,
        running_server(hosting="inline") as staying,
        RemoteVectorEnv(
            "CartPole-v1", 4, address=[leaving.address, staying.address], on_env_failure="restart"
        ) as envs,
    ):
        envs.reset(seed=0)
        drainer = threading.Thread(target=leaving.drain, args=(0.5, 2.0))
        drainer.start()
        try:
            moved = False
            deadline = time.monotonic() + 10.0
            while not moved and time.monotonic() < deadline:
                *_, infos = envs.step(envs.action_space.sample())
                moved = bool(infos.get("env_restarted", [False] * 4)[0])
            assert moved, "the draining server's sub-envs were never re-created"
            assert list(infos["env_restarted"]) == [True, True, False, False]
            assert "ServerDrainingError" in str(infos["env_restart_reason"][0])
            for _ in range(20):  # all four step on, on the server that stays
                envs.step(envs.action_space.sample())
            assert staying.active_sessions == 2
        finally:
            drainer.join(10)


def test_a_trainer_restarted_against_a_full_host_behind_a_hub_gets_its_sessions_at_once() -> None:
    """Through a hub too, the detached sessions of a killed trainer yield to its restarted self at once."""
    from tests.support.hub import dialing_host, hub_with_hosts, wait_for_hosts

    with hub_with_hosts(()) as (hub, hosts):
        hosts.append(
            dialing_host(hub.address, "full", ("CartPole-v1",), max_sessions=2, resume_window_s=60.0)
        )
        wait_for_hosts(hub, ["full"])
        for _ in range(2):  # the killed trainer: sessions that reset, then vanished
            make_and_vanish(hub.address, reset=True)
        # The host holds both for a resume (they were reset); the hub's relays for them have ended.
        _wait_for(lambda: hosts[0].active_sessions == 2)
        _wait_for(lambda: [h.active_sessions for h in hub.info().hub_hosts] == [0])
        start = time.monotonic()
        with contextlib.ExitStack() as stack:
            envs = [stack.enter_context(RemoteEnvironment(address=hub.address)) for _ in range(2)]
            for env in envs:
                env.reset(seed=0)
                env.step(0)
            elapsed = time.monotonic() - start
        assert elapsed < 1.0 * 5, elapsed  # 1 s on an idle machine; loaded CI gets headroom
