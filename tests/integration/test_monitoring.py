"""A server's figures: the Prometheus endpoint, GetStats, and what they count, on real servers and workers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from remote_gym import RemoteEnvironment, RemoteVectorEnv
from remote_gym.client.stats import StatsClient
from remote_gym.errors import EnvNotFoundError, InvalidCallError, WorkerCrashedError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from tests.conftest import hosted_environments

pytestmark = pytest.mark.integration


def scrape(server: EnvServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the server's metrics endpoint, by name and labels."""
    assert server.metrics_endpoint is not None
    text = urllib.request.urlopen(server.metrics_endpoint.url + "metrics", timeout=10).read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def play(env: RemoteEnvironment, steps: int) -> int:
    """Step ``env`` ``steps`` times from a reset, resetting at episode ends; returns the resets made."""
    env.reset(seed=0)
    resets = 1
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
            resets += 1
    return resets


@pytest.mark.parametrize("lane", [False, True], ids=["grpc", "lane"])
def test_scrape_counts_exactly_the_steps_made(lane: bool) -> None:
    """After N known steps over two sessions in two worker processes, the step counter shows exactly N.

    On the same-host lane the steps go to the workers directly; the server asks them for their counts.
    """
    with running_server(hosting="process", metrics_port=0, same_host_lane=lane) as server:
        with (
            RemoteEnvironment(address=server.address) as first,
            RemoteEnvironment(address=server.address) as second,
        ):
            resets = play(first, 237) + play(second, 101)
            assert ("path=lane" in repr(first)) is lane
            samples = scrape(server)
            assert value(samples, "remote_gym_steps_total", env="CartPole-v1") == 338
            assert value(samples, "remote_gym_resets_total", env="CartPole-v1") == resets
            assert value(samples, "remote_gym_sessions_open", env="CartPole-v1") == 2
            assert value(samples, "remote_gym_workers") == 2
            assert value(samples, "remote_gym_workers_resident_memory_bytes") > 10e6
            if not lane:  # latencies and bytes: measured where the requests pass, the server
                assert value(samples, "remote_gym_request_duration_seconds_count", method="step") == 338
                assert value(samples, "remote_gym_received_bytes_total", env="CartPole-v1") > 338
        # A session is closed on the server just after its client's close returns: wait for both.
        deadline = time.monotonic() + 10
        samples = scrape(server)
        while value(samples, "remote_gym_sessions_open", env="CartPole-v1") and time.monotonic() < deadline:
            time.sleep(0.05)
            samples = scrape(server)
        assert (
            value(samples, "remote_gym_steps_total", env="CartPole-v1") == 338
        )  # closed sessions' counts stay
        assert value(samples, "remote_gym_sessions_closed_total", env="CartPole-v1", reason="closed") == 2
        assert value(samples, "remote_gym_sessions_opened_total", env="CartPole-v1") == 2


def test_vector_steps_count_once_and_env_steps_count_every_sub_env() -> None:
    """A vector session's step counts once in steps_total and num_envs times in env_steps_total."""
    with (
        running_server(hosting="process", metrics_port=0, same_host_lane=False) as server,
        RemoteVectorEnv("CartPole-v1", 4, address=server.address) as envs,
    ):
        envs.reset(seed=0)
        for _ in range(25):
            envs.step(envs.action_space.sample())
        samples = scrape(server)
    assert value(samples, "remote_gym_steps_total", env="CartPole-v1") == 25
    assert value(samples, "remote_gym_env_steps_total", env="CartPole-v1") == 100


def test_refusals_crashes_and_stats_over_grpc() -> None:
    """Refused sessions count by reason, a dead worker counts as a crash, and GetStats shows the same figures."""
    with running_server(
        hosted_environments(), hosting="process", metrics_port=0, same_host_lane=False
    ) as server:
        with pytest.raises(EnvNotFoundError):
            RemoteEnvironment(address=server.address, env="NoSuchEnv")
        with RemoteEnvironment(address=server.address, env="Exiting") as env:
            env.reset(seed=0)
            with pytest.raises(WorkerCrashedError):
                play(env, 50)
        with (
            RemoteEnvironment(address=server.address, env="CartPole-v1") as env,
            StatsClient(server.address) as client,
        ):
            play(env, 30)
            stats = client.fetch()
            samples = scrape(server)
    assert value(samples, "remote_gym_refusals_total", reason="ENV_NOT_FOUND") == 1
    assert value(samples, "remote_gym_worker_crashes_total", env="Exiting") == 1
    assert value(samples, "remote_gym_sessions_closed_total", env="Exiting", reason="worker_crashed") == 1
    [row] = stats.sessions
    assert (row.env, row.steps, row.state) == ("CartPole-v1", 30, "attached")
    assert row.worker_pid > 0
    assert row.worker_resident_bytes > 0
    assert 0 < row.latency_p50_s <= row.latency_p99_s
    assert (stats.totals.refusals, stats.totals.worker_crashes) == (1, 1)
    grpc_samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(stats.metrics_text)
        for s in family.samples
    }
    assert value(grpc_samples, "remote_gym_steps_total", env="CartPole-v1") == value(
        samples, "remote_gym_steps_total", env="CartPole-v1"
    )


def test_monitoring_off_counts_nothing() -> None:
    """With monitoring=False the server keeps no per-request figures, and GetStats says so."""
    with (
        running_server(hosting="inline", monitoring=False) as server,
        RemoteEnvironment(address=server.address) as env,
        StatsClient(server.address) as client,
    ):
        play(env, 5)
        with pytest.raises(InvalidCallError, match="monitoring off"):
            client.fetch()


def test_metrics_endpoint_asks_for_the_token() -> None:
    """With tokens, the endpoint answers 401 without the token and the figures with it."""
    from remote_gym.transport.auth import TokenAuth

    with running_server(hosting="inline", metrics_port=0, tokens=(TokenAuth("s3cret"),)) as server:
        assert server.metrics_endpoint is not None
        url = server.metrics_endpoint.url + "metrics"
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(url, timeout=10)
        request = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret"})
        assert b"remote_gym_steps_total" in urllib.request.urlopen(request, timeout=10).read()
        post = urllib.request.Request(url, data=b"x", headers={"Authorization": "Bearer s3cret"})
        with pytest.raises(urllib.error.HTTPError, match="405"):
            urllib.request.urlopen(post, timeout=10)


@pytest.mark.parametrize(
    ("hosting", "workers", "lane"),
    [("process", 1, False), ("process", 1, True), ("process", 2, False), ("inline", 1, False)],
    ids=["worker", "worker-lane", "worker-and-helper", "inline"],
)
def test_sub_env_restarts_are_counted_where_they_happen(hosting: str, workers: int, lane: bool) -> None:
    """Restarts inside a worker (or its helper process, or in-process) count exactly as the client saw them.

    The sub-envs raise on their third step; with on_env_failure="restart" each is recreated and its
    info says so. The server learns of the restarts from the worker's status: while the session runs
    (scrape, GetStats) and after it closed (totals).
    """
    with running_server(
        hosted_environments(),
        hosting=hosting,
        metrics_port=0,
        same_host_lane=lane,
        workers_per_session=workers,
    ) as server:
        seen = 0
        with (
            RemoteVectorEnv(
                "Raising", 4, address=server.address, on_env_failure="restart", kwargs={"fail_on_step": 3}
            ) as envs,
            StatsClient(server.address) as client,
        ):
            envs.reset(seed=0)
            for _ in range(10):
                *_, info = envs.step(np.ones(4, dtype=np.int64))
                seen += int(np.count_nonzero(info.get("_env_restarted", False)))
            assert seen == 8  # steps 3 and 7 of every sub-env (step 4 is the autoreset)
            samples = scrape(server)
            assert value(samples, "remote_gym_env_restarts_total", env="Raising") == seen
            stats = client.fetch()
            assert stats.totals.env_restarts == seen
            [row] = stats.sessions
            assert row.env_restarts == seen
        deadline = time.monotonic() + 10
        samples = scrape(server)
        while value(samples, "remote_gym_sessions_open", env="Raising") and time.monotonic() < deadline:
            time.sleep(0.05)
            samples = scrape(server)
        assert value(samples, "remote_gym_sessions_closed_total", env="Raising", reason="closed") == 1
        assert value(samples, "remote_gym_env_restarts_total", env="Raising") == seen
