"""Resumption is exactly-once when connections are cut at adversarial moments, chosen or random."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import ClientConfig, RemoteEnvironment, Timeouts
from remote_gym.errors import ConnectionLostError
from remote_gym.server.server import EnvServer
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from tests.support.proxy import CuttingProxy, cutting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RANDOM_CUTS = int(os.environ.get("REMOTE_GYM_TEST_RANDOM_CUTS", "1000"))
"""Cuts the random-cut test makes (raise it to soak: thousands run in a few minutes)."""


def _hanging(hang_s: float) -> dict[str, Any]:
    """Kwargs of the test env whose action 1 takes ``hang_s`` seconds on the server."""
    return {"hang_s": hang_s, "hang_action": 1}


def _local_twin() -> gym.Env[Any, Any]:
    """The same env locally; its steps are instant (observations do not depend on the hang)."""
    return gym.make(IMPORTABLE_ENV_IDS["Hanging"], **_hanging(0.0))


def _assert_steps(remote: gym.Env[Any, Any], local: gym.Env[Any, Any], actions: list[int]) -> None:
    for i, action in enumerate(actions):
        a, b = remote.step(action), local.step(action)
        assert data_equivalence(a, b, exact=True), f"step {i}: {a} != {b}"
        if b[2] or b[3]:
            assert data_equivalence(remote.reset(), local.reset(), exact=True)


def _step_in_thread(remote: gym.Env[Any, Any], action: int) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(remote.step(action))
        except BaseException as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_cut_twice_while_the_server_awaits_an_abandoned_reply(env_server: EnvServer) -> None:
    """A slow step cut mid-step, then cut again on the resumed connection while the server still waits, is applied once.

    The failure this guards against answered steps 1-5 with observations of steps 1, 2, 3, 3, 4.
    """
    host, port = env_server.address.rsplit(":", 1)
    for trial in range(3):
        with cutting_proxy(host, int(port)) as proxy:
            local = _local_twin()
            with RemoteEnvironment(
                address=f"127.0.0.1:{proxy.port}", env="Hanging", kwargs=_hanging(0.5)
            ) as remote:
                assert data_equivalence(remote.reset(seed=trial), local.reset(seed=trial), exact=True)
                _assert_steps(remote, local, [0, 0])
                thread, out = _step_in_thread(remote, 1)  # 0.5 s on the server
                time.sleep(0.1)
                proxy.cut()  # mid-step
                proxy.wait_for_connections(2)
                proxy.cut_link_after(2, 4)  # the resumed connection dies while the server still waits
                thread.join(30)
                assert not thread.is_alive()
                assert proxy.cuts >= 2
                assert proxy.connections >= 3
                result = out[0]
                assert not isinstance(result, BaseException), result
                assert data_equivalence(result, local.step(1), exact=True)
                _assert_steps(remote, local, [0, 1, 0, 0, 1])  # every later reply is that step's own
            local.close()


@pytest.mark.parametrize("hang_s", [0.0, 0.2], ids=["fast-step", "slow-step"])
def test_cut_at_every_chunk_of_the_resume(env_server: EnvServer, hang_s: float) -> None:
    """Cutting the resume connection after each of its first chunks (handshake, right after it, the re-sent
    request, its reply) never loses the session nor changes the trajectory."""
    host, port = env_server.address.rsplit(":", 1)
    with cutting_proxy(host, int(port)) as proxy:
        local = _local_twin()
        config = ClientConfig(timeouts=Timeouts(connect=5, call=10))
        with RemoteEnvironment(
            address=f"127.0.0.1:{proxy.port}", env="Hanging", kwargs=_hanging(hang_s), config=config
        ) as remote:
            assert data_equivalence(remote.reset(seed=1), local.reset(seed=1), exact=True)
            for chunk in range(1, 16):  # a fast step may be answered before the cut: the next one resumes
                thread, out = _step_in_thread(remote, 1)
                time.sleep(hang_s / 2)
                next_link = proxy.connections + 1
                proxy.cut_link_after(next_link, chunk)  # the resume connection, at its chunk-th chunk
                proxy.cut()
                thread.join(30)
                assert not thread.is_alive()
                result = out[0]
                assert not isinstance(result, BaseException), f"chunk {chunk}: {result!r}"
                assert data_equivalence(result, local.step(1), exact=True), f"chunk {chunk}"
                _assert_steps(remote, local, [0, 1])
            assert proxy.cuts >= 15
        local.close()


def test_random_cuts_every_few_chunks_keep_the_trajectory(env_server: EnvServer) -> None:
    """Resetting every connection after every 6-14 chunks, hundreds of times, neither loses nor repeats a step."""
    host, port = env_server.address.rsplit(":", 1)
    rng = np.random.default_rng(0)
    with cutting_proxy(host, int(port)) as proxy:
        local = gym.make("CartPole-v1")
        with RemoteEnvironment(address=f"127.0.0.1:{proxy.port}", env="CartPole-v1") as remote:
            assert data_equivalence(remote.reset(seed=3), local.reset(seed=3), exact=True)
            proxy.cut_randomly(6, 14, seed=int(rng.integers(1 << 30)))
            steps = 0
            while proxy.cuts < RANDOM_CUTS:
                _assert_steps(remote, local, [int(rng.integers(2))])
                steps += 1
            proxy.stop_cutting()
            _assert_steps(remote, local, [0, 1, 0])
        local.close()
    print(f"\nrandom cuts every 6-14 chunks: {proxy.cuts} cuts over {steps} steps, trajectory identical")


def _cut_while_idle(proxy: CuttingProxy, remote: gym.Env[Any, Any], idle_s: float) -> None:
    proxy.cut()
    time.sleep(idle_s)


def test_idle_drop_within_the_window_resumes() -> None:
    """A connection lost while the trainer is idle for less than the server's window resumes on the next call."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline", resume_window_s=2.0) as server:
        host, port = server.address.rsplit(":", 1)
        with cutting_proxy(host, int(port)) as proxy:
            local = gym.make("CartPole-v1")
            with RemoteEnvironment(address=f"127.0.0.1:{proxy.port}") as remote:
                assert data_equivalence(remote.reset(seed=0), local.reset(seed=0), exact=True)
                _cut_while_idle(proxy, remote, 1.0)
                _assert_steps(remote, local, [1, 0])
            local.close()


def test_idle_drop_past_the_window_is_a_typed_error() -> None:
    """Idle longer than the server's window after a drop: ConnectionLostError naming why, never a fresh env."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline", resume_window_s=0.5) as server:
        host, port = server.address.rsplit(":", 1)
        with (
            cutting_proxy(host, int(port)) as proxy,
            RemoteEnvironment(address=f"127.0.0.1:{proxy.port}") as remote,
        ):
            remote.reset(seed=0)
            _cut_while_idle(proxy, remote, 1.5)
            start = time.monotonic()
            with pytest.raises(ConnectionLostError, match="cannot go on"):
                remote.step(0)
            assert time.monotonic() - start < 5.0
