"""deploy/grafana's dashboard agrees with the server: every metric and label it queries is exposed."""

from __future__ import annotations

import json
import pathlib
import re
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from remote_gym import ClientConfig, RemoteEnvironment
from remote_gym.testing.server import running_server

DASHBOARD = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "remote-gym.json"
_METRIC = re.compile(r"\b(remote_gym_[a-z_]+)\b")
_BY = re.compile(r"by \(([^)]*)\)")
_MATCHER = re.compile(r"([a-z_]+)=~?\"")
_ADDED_BY_PROMETHEUS = {"instance", "job", "le"}


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs += [var["query"]["query"] for var in dashboard["templating"]["list"]]
    return exprs


def test_the_dashboard_is_an_importable_grafana_dashboard() -> None:
    """It parses, asks for a Prometheus data source on import, and every panel has a query."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


@pytest.mark.integration
def test_every_metric_and_label_the_dashboard_queries_is_served() -> None:
    """A server with a lane and a gRPC session exposes every series and label the dashboard names."""
    with running_server(hosting="process", metrics_port=0) as server:
        for lane in (True, False):
            with RemoteEnvironment(address=server.address, config=ClientConfig(same_host_lane=lane)) as env:
                env.reset(seed=0)
                env.step(0)
        with RemoteEnvironment(address=server.address) as env:  # one open: the gauges by env have a sample
            env.reset(seed=0)
            assert server.metrics_endpoint is not None
            text = urllib.request.urlopen(server.metrics_endpoint.url + "metrics", timeout=10).read().decode()
    labels: dict[str, set[str] | None] = {}
    """Labels by series name; None for a family served without a sample yet (a counter still at 0)."""
    for family in text_string_to_metric_families(text):
        if not family.samples:
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(
                family.type, ("",)
            )
            labels.update({family.name + suffix: None for suffix in suffixes})
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)  # type: ignore[union-attr]
    for expr in _expressions(json.loads(DASHBOARD.read_text())):
        for name in _METRIC.findall(expr):
            assert name in labels, f"{name} (in {expr}) is not served"
            served = labels[name]
            if served is None:
                continue
            named = {n.strip() for group in _BY.findall(expr) for n in group.split(",")}
            named |= set(_MATCHER.findall(expr))
            missing = named - _ADDED_BY_PROMETHEUS - served
            assert not missing, f"{name} has no label {missing} (in {expr})"
