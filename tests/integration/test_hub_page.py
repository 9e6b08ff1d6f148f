"""A hub's monitoring page, with two real hosts dialing it, loaded in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from remote_gym import ClientConfig, RemoteEnvironment
from remote_gym.hub import Hub
from remote_gym.transport.auth import TokenAuth
from tests.integration.test_monitoring_page import (
    BASELINE_Y,
    CHROMIUM,
    _chromium,
    _stepping,
)
from tests.support.hub import hub_with_hosts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

HOSTS = ("alpha", "beta")
CHARTS = ("steps", "step-time", "sessions", "events", "memory")


@pytest.fixture(scope="module")
def stepping_hub() -> Iterator[tuple[Hub, dict[str, str]]]:
    """A hub with its page on, hosts alpha and beta, and a session stepping on each (session ids by host)."""
    stop = threading.Event()
    with hub_with_hosts(HOSTS, web_port=0) as (hub, _):
        envs = [
            RemoteEnvironment(
                address=hub.address, env="CartPole-v1", host=name, config=ClientConfig(same_host_lane=False)
            )
            for name in HOSTS
        ]
        threads = [_stepping(env, stop) for env in envs]
        try:
            yield hub, {name: env.session_id for name, env in zip(HOSTS, envs, strict=True)}
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            for env in envs:
                env.close()


def _wait_for_hosts_history(url: str) -> None:
    """Wait until every host's charts have lines of two points (the hosts attach after the page starts)."""
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(url + "charts.json", timeout=10) as answer:
            hosts = json.loads(answer.read())["hosts"]
        points = [
            int(n)
            for name in HOSTS
            for n in re.findall(r'data-points="(\d+)"', hosts.get(name, {}).get("steps", ""))
        ]
        if len(points) == len(HOSTS) and min(points) >= 2:
            return
        assert time.monotonic() < deadline, f"no history of the hosts: {points}"
        time.sleep(0.5)


def _line(svg: str, label: str) -> list[float]:
    """The heights of the points of the line ``label`` of ``svg``."""
    match = re.search(rf'data-label="{label}"[^>]*\spoints="([^"]+)"', svg)
    assert match, svg
    return [float(xy.split(",")[1]) for xy in match.group(1).split()]


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
)
def test_hub_page_draws_each_hosts_charts_with_data_and_logs_nothing(
    stepping_hub: tuple[Hub, dict[str, str]], tmp_path: os.PathLike[str]
) -> None:
    """Below the charts of the hosts' sum, each host has its own: steps/s and step times above zero,
    every line of several points; both sessions are listed, and the console stays silent."""
    hub, sessions = stepping_hub
    assert hub.web_endpoint is not None
    url = hub.web_endpoint.url
    _wait_for_hosts_history(url)
    ran = _chromium(url, f"{tmp_path}/profile", "--dump-dom", "--enable-logging=stderr", "--v=0")
    dom = ran.stdout
    assert "<h1>remote-gym hub" in dom
    for prefix in ("", *(f"host-{name}-" for name in HOSTS)):
        for chart in CHARTS:
            svg = re.search(rf'<svg[^>]*id="chart-{prefix}{chart}".*?</svg>', dom, re.S)
            assert svg, f"chart {prefix}{chart} missing"
            counts = [int(n) for n in re.findall(r'data-points="(\d+)"', svg.group(0))]
            assert counts, f"chart {prefix}{chart} has no line"
            assert min(counts) >= 2, f"chart {prefix}{chart} has too few points"
            if chart == "steps":
                assert min(_line(svg.group(0), "steps/s")) < BASELINE_Y - 10, f"{prefix}steps/s flat at zero"
            if chart == "step-time":
                assert min(_line(svg.group(0), "p50")) < BASELINE_Y, f"{prefix}step time p50 at zero"
    for name in HOSTS:
        assert f'<section class="host" data-host="{name}"><h2>host {name}</h2>' in dom
        row = re.search(rf'<tr id="session-{sessions[name]}".*?</tr>', dom, re.S)
        assert row, dom
        assert f"-&gt; host {name}" in row.group(0)
        assert f'id="spark-{sessions[name]}"' in row.group(0)
        assert "<img" not in row.group(0)  # a hub keeps no frames
    console = [line for line in ran.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console


def test_hub_page_figures_come_from_each_host(stepping_hub: tuple[Hub, dict[str, str]]) -> None:
    """/stats.json of the hub's page: each session with its host's step times and path, each host's totals."""
    hub, sessions = stepping_hub
    assert hub.web_endpoint is not None
    with urllib.request.urlopen(hub.web_endpoint.url + "stats.json", timeout=10) as answer:
        stats = json.loads(answer.read())
    rows = {row["host"]: row for row in stats["sessions"]}
    assert {name: rows[name]["session_id"] for name in HOSTS} == sessions
    for row in rows.values():
        assert 0 < row["latency_p50_s"] <= row["latency_p99_s"]
        assert row["path"] == "hub-frames"  # how the hub reached the host
        assert row["received_bytes"] > 0
        assert row["sent_bytes"] > 0
    assert {
        host["name"]: host["stats"]["totals"]["steps"] > 0 for host in stats["hub_hosts"]
    } == dict.fromkeys(HOSTS, True)
    assert stats["metrics_text"] == ""  # /metrics has it


def test_hub_page_wants_the_trainers_token_on_every_path() -> None:
    """With trainer tokens, the page, its figures, its charts and its /metrics answer 401 without the token."""
    with hub_with_hosts((), web_port=0, tokens=(TokenAuth("trainer-token"),)) as (hub, _):
        assert hub.web_endpoint is not None
        assert hub.web_endpoint.host == "127.0.0.1"
        for path in ("", "stats.json", "charts.json", "metrics"):
            url = hub.web_endpoint.url + path
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=10)
            assert refused.value.code == 401, path
            refused.value.close()
            request = urllib.request.Request(url, headers={"Authorization": "Bearer trainer-token"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200, path
