"""The page's history: intervals computed from successive snapshots, bounded rings, and their SVG charts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from remote_gym.monitoring.buckets import BUCKETS, STEP_DURATION, bucket_of, from_exposition, quantile
from remote_gym.monitoring.charts import server_charts, session_sparks
from remote_gym.monitoring.history import TOTAL, History, Point
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.metrics import Snapshot
from remote_gym.server.steptimes import step_time_family
from remote_gym.server.web import reading


def _snapshot(at: float, steps: dict[str, int], fast: int, slow: int) -> Snapshot:
    """A server whose sessions made ``steps`` steps; ``fast`` steps took 100 µs and ``slow`` 10 ms in all."""
    histogram = [0] * BUCKETS
    histogram[bucket_of(100e-6)] = fast
    histogram[bucket_of(10e-3)] = slow
    return Snapshot(
        uptime_s=at,
        hosting="process",
        sessions=[
            pb.SessionStats(session_id=key, steps=n, worker_resident_bytes=1 << 20)
            for key, n in steps.items()
        ],
        opened={},
        closed={},
        requests={"CartPole-v1": [0, 0, 0, sum(steps.values())] + [0] * 28},
        bytes_in={},
        bytes_out={},
        env_steps={},
        crashes={},
        env_restarts={},
        resumes={},
        refusals={"SERVER_BUSY": int(at)},
        step_times={("CartPole-v1", "grpc"): histogram},
        session_steps=dict.fromkeys(steps, histogram),
        taken_at=at,
    )


class _Server:
    """A history of a server's snapshots, added by hand."""

    def __init__(self, **kwargs: float) -> None:
        self.history = History(dict, **kwargs)

    def add(self, snap: Snapshot) -> None:
        self.history.add({TOTAL: reading(snap)})

    @property
    def points(self) -> list[Point]:
        return list(self.history.rings[TOTAL].points)

    @property
    def sessions(self) -> dict[str, Any]:
        return self.history.rings[TOTAL].sessions


def _history(**kwargs: float) -> _Server:
    return _Server(**kwargs)


def test_each_interval_has_its_own_rate_quantiles_and_events() -> None:
    """Steps/s, p50/p99 and refusals are those of the interval between two samples, not since the start."""
    history = _history(interval_s=2.0)
    history.add(_snapshot(10.0, {"a": 100}, fast=1000, slow=0))
    history.add(_snapshot(12.0, {"a": 300}, fast=1000, slow=200))  # the interval's steps were all slow
    [point] = history.points
    assert point.steps_per_s == 100.0
    assert 8e-3 < point.step_p50_s <= point.step_p99_s <= 12e-3  # within the 10 ms bucket
    assert point.refusals == 2
    assert point.sessions == 1
    assert point.worker_bytes == 1 << 20
    [session] = history.sessions["a"]
    assert session.steps_per_s == 100.0


def test_rings_are_bounded_and_closed_sessions_are_dropped() -> None:
    """The server's ring keeps window_s / interval_s points; a session gone from a snapshot loses its ring."""
    history = _history(interval_s=1.0, window_s=5.0, session_window_s=3.0)
    for t in range(20):
        history.add(_snapshot(float(t), {"a": t * 10, "b": t} if t < 10 else {"a": t * 10}, 0, 0))
    assert len(history.points) == 5
    assert len(history.sessions["a"]) == 3
    assert "b" not in history.sessions


def test_charts_draw_one_line_per_series_with_every_point() -> None:
    """Every chart is an SVG whose lines have as many points as the history."""
    history = _history(interval_s=1.0)
    for t in range(4):
        history.add(_snapshot(float(t), {"a": t * 50}, fast=t * 50, slow=0))
    _, by_source, sessions = history.history.copy()
    points = by_source[TOTAL]
    charts = server_charts(points, now=points[-1].at, window_s=60.0)
    assert set(charts) == {"steps", "step-time", "sessions", "events", "memory"}
    for svg in charts.values():
        assert svg.startswith("<svg")
        assert svg.endswith("</svg>")
        assert set(re.findall(r'data-points="(\d+)"', svg)) == {"3"}
    assert 'data-points="3"' in session_sparks(sessions)["a"]


class _Families(Collector):
    def __init__(self, *families: Metric) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def test_a_step_time_histogram_reads_back_from_its_exposition() -> None:
    """A hub reads its hosts' step times from their metrics text: the same counts, quantiles within a bucket."""
    fast, slow = [0] * BUCKETS, [0] * BUCKETS
    fast[bucket_of(150e-6)] = 990
    slow[bucket_of(20e-3)] = 10
    family = step_time_family({("CartPole-v1", "grpc"): fast, ("CartPole-v1", "lane"): slow}, {})
    registry = CollectorRegistry()
    registry.register(_Families(family))
    back = from_exposition(generate_latest(registry).decode())
    assert sum(back) == 1000
    merged = [a + b for a, b in zip(fast, slow, strict=True)]
    for q in (0.5, 0.99, 0.995):
        assert 0.7 < quantile(back, q) / quantile(merged, q) < 1.42  # within one exposed bucket
    assert from_exposition(f"{STEP_DURATION}_count 3\n") == [0] * BUCKETS


def test_a_source_gone_from_a_reading_loses_its_rings() -> None:
    """A hub's host that stops answering has no rings at the next sample; the others keep theirs."""
    server = _history(interval_s=1.0)
    for t in range(3):
        snap = reading(_snapshot(float(t), {"a": t}, 0, 0))
        server.history.add(
            {TOTAL: snap, "alpha": snap, "beta": snap} if t < 2 else {TOTAL: snap, "alpha": snap}
        )
    assert set(server.history.rings) == {TOTAL, "alpha"}
    assert len(server.history.rings["alpha"].points) == 2
