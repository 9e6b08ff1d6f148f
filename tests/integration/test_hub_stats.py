"""A hub's figures and each host's: GetStats, `remote-gym top` and the hub's /metrics endpoint."""

from __future__ import annotations

import io
import queue
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym import RemoteEnvironment
from remote_gym.capabilities import CAP_HUB_STATS
from remote_gym.cli.main import main
from remote_gym.client.config import ClientConfig
from remote_gym.client.stats import StatsClient
from remote_gym.hub import Hub
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.dial import ATTACH_METHOD
from remote_gym.server.server import EnvServer
from remote_gym.transport.auth import TokenAuth
from tests.support.hub import HOST_TOKEN, hub_with_hosts

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

STEPS = {"alpha": 7, "beta": 4}


@pytest.fixture(scope="module")
def busy_hub() -> Iterator[tuple[Hub, list[EnvServer], dict[str, str]]]:
    """A hub with a metrics endpoint, hosts alpha and beta (worker processes), a session open on each."""
    with hub_with_hosts(("alpha", "beta"), metrics_port=0) as (hub, hosts):
        sessions = {}
        envs = []
        try:
            for name, steps in STEPS.items():
                env = RemoteEnvironment(
                    address=hub.address,
                    env="CartPole-v1",
                    host=name,
                    config=ClientConfig(same_host_lane=False),
                )
                envs.append(env)
                env.reset(seed=1)
                for _ in range(steps):
                    env.step(0)
                sessions[name] = env.session_id
            yield hub, hosts, sessions
        finally:
            for env in envs:
                env.close()


def _scrape(hub: Hub, token: str | None = None) -> str:
    assert hub.metrics_endpoint is not None
    request = urllib.request.Request(f"{hub.metrics_endpoint.url}metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200
        return str(reply.read().decode())


def _value(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` whose labels include ``labels`` (exactly one such sample)."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            found.append(float(match.group(2)))
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_metrics_endpoint_shows_the_hubs_figures_and_each_hosts_labelled(
    busy_hub: tuple[Hub, list[EnvServer], dict[str, str]],
) -> None:
    """/metrics of the hub: its own figures, and each host's own (steps, workers) labelled host="NAME"."""
    hub, _, _ = busy_hub
    text = _scrape(hub)
    assert _value(text, "remote_gym_hub_host_sessions", host="alpha") == 1
    assert _value(text, "remote_gym_hub_host_sessions", host="beta") == 1
    for name, steps in STEPS.items():
        assert _value(text, "remote_gym_steps_total", host=name, env="CartPole-v1") == steps
        assert _value(text, "remote_gym_workers", host=name) == 1
        assert _value(text, "remote_gym_workers_resident_memory_bytes", host=name) > 10e6
        assert _value(text, "remote_gym_step_duration_seconds_count", host=name, path="grpc") == steps
    assert text.count("# TYPE remote_gym_steps_total counter") == 1  # one family, a sample per host
    assert re.search(r"^process_resident_memory_bytes \S+$", text, re.M)  # the hub's own process


def test_get_stats_of_a_hub_carries_each_hosts_figures(
    busy_hub: tuple[Hub, list[EnvServer], dict[str, str]],
) -> None:
    """GetStats: the hub's rows say their host and carry the host's step times and worker memory."""
    hub, _, sessions = busy_hub
    with StatsClient(hub.address) as client:
        stats = client.fetch()
    rows = {row.host: row for row in stats.sessions}
    assert set(rows) == {"alpha", "beta"}
    for name, steps in STEPS.items():
        row = rows[name]
        assert (row.session_id, row.steps) == (sessions[name], steps)
        assert row.latency_p50_s > 0
        assert row.worker_pid > 0
        assert row.worker_resident_bytes > 10e6
        assert row.path == "hub-frames"  # the host saw gRPC: the hub says how it reached the host
    hosts = {host.name: host for host in stats.hub_hosts}
    assert set(hosts) == {"alpha", "beta"}
    assert all(not host.missing and host.state == "attached" for host in hosts.values())
    assert {name: hosts[name].stats.totals.steps for name in STEPS} == STEPS
    assert not hosts["alpha"].stats.sessions  # merged into the hub's rows
    assert stats.totals.workers_resident_bytes == sum(row.worker_resident_bytes for row in rows.values())


def test_top_once_against_a_hub_shows_both_hosts_sessions(
    busy_hub: tuple[Hub, list[EnvServer], dict[str, str]],
) -> None:
    """`remote-gym top --once HUB`: a line per host, and each session's row with its host and worker memory."""
    hub, _, sessions = busy_hub
    buffer = io.StringIO()
    console = Console(file=buffer, width=180, color_system=None, force_terminal=False)
    assert main(["top", hub.address, "--once"], console=console) == 0
    out = buffer.getvalue()
    for name, steps in STEPS.items():
        assert re.search(
            rf"host {name} · remote-gym \S+ · up \d+ s · sessions opened 1 · steps {steps}", out
        ), out
        row = next(line for line in out.splitlines() if sessions[name] in line)
        assert f"  {name}  " in row, row  # the host column
        assert re.search(r"  \d+(\.\d)?M$", row.rstrip()), row  # worker memory
        assert "attached" in row, row


def test_a_lost_host_shows_as_missing_and_the_endpoint_keeps_its_token() -> None:
    """A host whose link is down is listed with why its figures are missing; /metrics wants the trainers' token."""
    with hub_with_hosts(("gamma",), metrics_port=0, tokens=(TokenAuth("trainer-token"),)) as (hub, hosts):
        with pytest.raises(urllib.error.HTTPError) as refused:
            _scrape(hub)
        assert refused.value.code == 401
        assert _value(_scrape(hub, "trainer-token"), "remote_gym_uptime_seconds", host="gamma") > 0
        hosts[0].stop(0.2)
        stats = _wait_for_lost(hub)
        (gamma,) = stats.hub_hosts
        assert (gamma.name, gamma.state) == ("gamma", "lost")
        assert "link" in gamma.missing


def test_hosts_that_cannot_or_do_not_answer_show_as_missing(
    busy_hub: tuple[Hub, list[EnvServer], dict[str, str]],
) -> None:
    """A host of an older release is not asked; one that announces the capability but stays silent
    is waited for 1 s; both are listed with why, and the other hosts' figures still arrive."""
    hub, _, _ = busy_hub
    with grpc.insecure_channel(hub.address) as channel:
        calls = [_raw_attach(channel, "old-release", []), _raw_attach(channel, "silent", [CAP_HUB_STATS])]
        try:
            started = time.monotonic()
            stats = hub.stats()
            took = time.monotonic() - started
        finally:
            for call in calls:
                call.cancel()
    hosts = {host.name: host for host in stats.hub_hosts}
    assert "does not send its figures" in hosts["old-release"].missing
    assert hosts["silent"].missing == "it did not answer within 1 s"
    assert 1.0 <= took < 4.0
    assert not hosts["alpha"].missing
    assert hosts["beta"].stats.totals.steps == STEPS["beta"]


def _raw_attach(channel: grpc.Channel, name: str, capabilities: list[str]) -> Any:
    """A host that attaches by hand and then sends nothing."""
    hello = pb.HubHostMessage(
        attach=pb.HubAttach(
            name=name, environments=[pb.HostedEnv(name="CartPole-v1")], capabilities=capabilities
        )
    )
    requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    requests.put(hello.SerializeToString())
    call = channel.stream_stream(ATTACH_METHOD)(
        iter(requests.get, None), metadata=TokenAuth(HOST_TOKEN).metadata()
    )
    assert pb.HubControl.FromString(next(call)).WhichOneof("kind") == "attached"
    return call


def _wait_for_lost(hub: Hub) -> pb.ServerStats:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = hub.stats()
        if stats.hub_hosts and stats.hub_hosts[0].state == "lost":
            return stats
        time.sleep(0.05)
    raise AssertionError("the host never showed as lost")
