"""Sessions survive dropped connections: resumed, with every step applied exactly once."""

from __future__ import annotations

import random
import threading
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import ClientConfig, RemoteEnvironment, Timeouts
from remote_gym.errors import ConnectionLostError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from tests.conftest import LANE_PATHS, SPAWNED
from tests.support.proxy import cutting_proxy

pytestmark = pytest.mark.integration

HOSTING_PATHS = (*LANE_PATHS, SPAWNED)
"""These tests run on spawned workers and the TCP lane too (see tests/conftest.py)."""


def _lock_step(remote: gym.Env, local: gym.Env, steps: int, *, every: int | None = None, cut=None) -> int:
    """Step both envs with the same actions; returns the number of episodes seen."""
    rng = np.random.default_rng(0)
    assert data_equivalence(remote.reset(seed=3), local.reset(seed=3), exact=True)
    episodes = 0
    for i in range(steps):
        if every and cut is not None and i % every == every - 1:
            cut()
        action = int(rng.integers(2))
        a, b = remote.step(action), local.step(action)
        assert data_equivalence(a, b, exact=True), f"step {i}: {a} != {b}"
        if b[2] or b[3]:
            episodes += 1
            assert data_equivalence(remote.reset(), local.reset(), exact=True)
    return episodes


def test_cut_every_n_steps_keeps_the_trajectory(env_server: EnvServer) -> None:
    """Cutting the connection every 50 steps during 2,000 steps changes nothing in the trajectory."""
    host, port = env_server.address.rsplit(":", 1)
    with cutting_proxy(host, int(port)) as proxy:
        local = gym.make("CartPole-v1")
        with RemoteEnvironment(url="127.0.0.1", port=proxy.port, env="CartPole-v1") as remote:
            episodes = _lock_step(remote, local, 2000, every=50, cut=proxy.cut)
        local.close()
    print(f"\ncut every 50 steps: {proxy.cuts} cuts, {episodes} episodes, trajectory identical")
    assert proxy.cuts >= 39
    assert episodes > 10


def test_random_cuts_mid_request_keep_the_trajectory(env_server: EnvServer) -> None:
    """Cuts at random moments (also while a step is in flight) neither lose nor repeat a step."""
    host, port = env_server.address.rsplit(":", 1)
    with cutting_proxy(host, int(port)) as proxy:
        stop = threading.Event()

        def cutter() -> None:
            rnd = random.Random(1)
            while not stop.wait(rnd.uniform(0.01, 0.06)):
                proxy.cut()

        local = gym.make("CartPole-v1")
        with RemoteEnvironment(url="127.0.0.1", port=proxy.port, env="CartPole-v1") as remote:
            thread = threading.Thread(target=cutter)
            thread.start()
            try:
                _lock_step(remote, local, 2000)
            finally:
                stop.set()
                thread.join()
        local.close()
    print(f"\nrandom cuts: {proxy.cuts} cuts during 2000 steps, trajectory identical")
    assert proxy.cuts >= 10


def test_resume_past_the_window_is_connection_lost() -> None:
    """When the server no longer holds the session, the client raises ConnectionLostError, never a fresh env."""
    with running_server(hosting="inline", resume_window_s=0.2) as server:
        host, port = server.address.rsplit(":", 1)
        with cutting_proxy(host, int(port)) as proxy:
            config = ClientConfig(resume_s=5.0, timeouts=Timeouts(connect=5, call=5))
            with RemoteEnvironment(url="127.0.0.1", port=proxy.port, config=config) as env:
                env.reset(seed=0)
                proxy.cut()
                time.sleep(1.0)  # the server's 0.2 s window passes
                with pytest.raises(ConnectionLostError, match=r"cannot go on|could not be resumed"):
                    env.step(0)


def test_resume_can_be_turned_off(env_server: EnvServer) -> None:
    """With resume_s=0 a dropped connection raises ConnectionLostError at once."""
    host, port = env_server.address.rsplit(":", 1)
    with cutting_proxy(host, int(port)) as proxy:
        config = ClientConfig(resume_s=0)
        with RemoteEnvironment(url="127.0.0.1", port=proxy.port, env="CartPole-v1", config=config) as env:
            env.reset(seed=0)
            proxy.cut()
            time.sleep(0.2)
            start = time.monotonic()
            with pytest.raises(ConnectionLostError):
                env.step(0)
            assert time.monotonic() - start < 2.0


def test_silent_network_is_detected_and_resumed(env_server: EnvServer) -> None:
    """A connection that silently stops delivering (no FIN/RST) is noticed by keepalive and resumed."""
    host, port = env_server.address.rsplit(":", 1)
    with cutting_proxy(host, int(port)) as proxy:
        local = gym.make("CartPole-v1")
        with RemoteEnvironment(url="127.0.0.1", port=proxy.port, env="CartPole-v1") as remote:
            assert data_equivalence(remote.reset(seed=5), local.reset(seed=5), exact=True)
            proxy.freeze()
            start = time.monotonic()
            assert data_equivalence(remote.step(1), local.step(1), exact=True)
            assert time.monotonic() - start < 15.0
            assert data_equivalence(remote.step(0), local.step(0), exact=True)
        local.close()


def test_server_notices_a_silent_client() -> None:
    """A client that silently vanishes is noticed by the server's keepalive; its session ends after the window."""
    with running_server(hosting="process", resume_window_s=1.0) as server:
        host, port = server.address.rsplit(":", 1)
        with cutting_proxy(host, int(port)) as proxy:
            env = RemoteEnvironment(url="127.0.0.1", port=proxy.port, config=ClientConfig(resume_s=0))
            try:
                env.reset(seed=0)
                assert server.active_sessions == 1
                proxy.freeze()
                start = time.monotonic()
                while server.active_sessions and time.monotonic() - start < 20:
                    time.sleep(0.1)
                elapsed = time.monotonic() - start
                assert server.active_sessions == 0
                assert elapsed < 12.0, f"the server took {elapsed:.1f} s to notice"
            finally:
                env.close()
