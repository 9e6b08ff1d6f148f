"""Every session is timed and counted on its path: the gRPC path and the same-host lane alike."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from remote_gym import ClientConfig, RemoteEnvironment
from remote_gym.client.stats import StatsClient
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

STEPS = 150


def _play(env: RemoteEnvironment) -> None:
    env.reset(seed=0)
    for _ in range(STEPS):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()


def test_lane_and_grpc_sessions_both_show_step_times_bytes_and_their_path() -> None:
    """In /stats.json, GetStats and /metrics, a lane session and a gRPC session have p50 > 0,
    p99 >= p50, bytes > 0 and their path; the step histogram counts each path's steps.

    The page's figures from the lane are those of the workers' last report (at most one history
    interval old): it is read until it has them all.
    """
    with (
        running_server(hosting="process", web_port=0, metrics_port=0) as server,
        RemoteEnvironment(address=server.address) as lane,
        RemoteEnvironment(address=server.address, config=ClientConfig(same_host_lane=False)) as grpc,
        StatsClient(server.address) as client,
    ):
        _play(lane)
        _play(grpc)
        assert server.web_endpoint is not None
        assert server.metrics_endpoint is not None
        deadline = time.monotonic() + 10
        while True:
            page = json.loads(
                urllib.request.urlopen(server.web_endpoint.url + "stats.json", timeout=10).read()
            )
            if {row["steps"] for row in page["sessions"]} == {STEPS} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        stats = client.fetch()
        text = urllib.request.urlopen(server.metrics_endpoint.url + "metrics", timeout=10).read().decode()
        expected = {lane.session_id: "lane", grpc.session_id: "grpc"}
        for rows in (page["sessions"], [_plain(row) for row in stats.sessions]):
            assert {row["session_id"]: row["path"] for row in rows} == expected
            for row in rows:
                assert int(row["steps"]) == STEPS
                assert 0 < row["latency_p50_s"] <= row["latency_p99_s"] < 1.0
                assert int(row["received_bytes"]) > STEPS
                assert int(row["sent_bytes"]) > STEPS
    counts = {
        (sample.labels["env"], sample.labels["path"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "remote_gym_step_duration_seconds_count"
    }
    assert counts == {("CartPole-v1", "lane"): STEPS, ("CartPole-v1", "grpc"): STEPS}


def _plain(row: pb.SessionStats) -> dict[str, Any]:
    return {field.name: value for field, value in row.ListFields()}


def test_the_charts_ask_for_the_token_like_the_rest_of_the_page() -> None:
    """With tokens, /charts.json answers 401 without the token and the charts with it."""
    import urllib.error

    from remote_gym.transport.auth import TokenAuth

    with running_server(hosting="inline", web_port=0, tokens=(TokenAuth("s3cret"),)) as server:
        assert server.web_endpoint is not None
        url = server.web_endpoint.url + "charts.json"
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(url, timeout=10)
        request = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret"})
        drawn = json.loads(urllib.request.urlopen(request, timeout=10).read())
    assert set(drawn["charts"]) == {"steps", "step-time", "sessions", "events", "memory"}


def test_closed_sessions_keep_their_step_times_in_the_histogram() -> None:
    """Once both sessions closed, /metrics still counts their steps by path."""
    with running_server(hosting="process", metrics_port=0) as server:
        for lane in (True, False):
            with RemoteEnvironment(address=server.address, config=ClientConfig(same_host_lane=lane)) as env:
                _play(env)
        assert server.metrics_endpoint is not None
        url = server.metrics_endpoint.url + "metrics"
        deadline = time.monotonic() + 10
        while b"remote_gym_sessions_open{" in (text := urllib.request.urlopen(url, timeout=10).read()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    counts = {
        sample.labels["path"]: sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == "remote_gym_step_duration_seconds_count"
    }
    assert counts == {"lane": STEPS, "grpc": STEPS}
