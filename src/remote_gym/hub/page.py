"""A hub's monitoring page: the server's page (remote_gym.monitoring) with charts of each host and their sum.

The hub has its hosts' own figures only by asking them (over their Attach streams, see
:mod:`~remote_gym.hub.host_stats`): one ask answers both the page's table and the history's sample,
and is reused for :data:`FRESH_S`, so however many pages are open the hosts are asked at most once
a second. Each host's step times come from the step-time histogram in the metrics text it sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from remote_gym.hub.config import HubConfig
from remote_gym.hub.stats import metrics_app
from remote_gym.monitoring.buckets import add_histograms, from_exposition
from remote_gym.monitoring.history import MAX_SESSIONS_FOLLOWED, TOTAL, Reading
from remote_gym.monitoring.page import ChartCache, page_app, serve_page
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.http import HttpEndpoint

FRESH_S = 1.0
"""Seconds the hosts' last answers serve the page and the history before the hosts are asked again."""

Gather = Callable[[], tuple[pb.ServerStats, list[pb.HubHostStats]]]
"""Asks the hosts: the hub's stats (the hosts' figures joined in, no metrics text) and each host's own."""


class _Latest:
    """The last answers of :data:`Gather`, asked again when older than :data:`FRESH_S`."""

    def __init__(self, gather: Gather) -> None:
        self._gather = gather
        self._lock = threading.Lock()
        self._last: tuple[float, pb.ServerStats, list[pb.HubHostStats]] | None = None

    def get(self) -> tuple[float, pb.ServerStats, list[pb.HubHostStats]]:
        """``(when asked, in monotonic seconds, stats, hosts)``."""
        with self._lock:
            if self._last is None or time.monotonic() - self._last[0] >= FRESH_S:
                asked = time.monotonic()
                stats, hosts = self._gather()
                self._last = (asked, stats, hosts)
            return self._last


def readings(hosts: list[pb.HubHostStats], at: float) -> dict[str, Reading | None]:
    """The history's reading of each host (None when its figures are missing this time: it keeps its
    past), and of the sum of those that answered (:data:`TOTAL`)."""
    each: dict[str, Reading | None] = {host.name: None for host in hosts}
    answered = [host for host in hosts if not host.missing]
    for host in answered:
        totals = host.stats.totals
        each[host.name] = Reading(
            at=at,
            steps=totals.steps,
            resumes=totals.session_resumes,
            refusals=totals.refusals,
            histogram=from_exposition(host.stats.metrics_text),
            sessions=len(host.stats.sessions),
            worker_bytes=totals.workers_resident_bytes,
        )
    known = [r for r in each.values() if r is not None]
    rows = [row for host in answered for row in host.stats.sessions][:MAX_SESSIONS_FOLLOWED]
    each[TOTAL] = Reading(
        at=at,
        steps=sum(r.steps for r in known),
        resumes=sum(r.resumes for r in known),
        refusals=sum(r.refusals for r in known),
        histogram=add_histograms(r.histogram for r in known),
        sessions=sum(r.sessions for r in known),
        worker_bytes=sum(r.worker_bytes for r in known),
        # A hub has no step-time histogram per session: their sparklines show steps/s only.
        session_steps={row.session_id: (row.steps, []) for row in rows},
    )
    return each


def start_page(config: HubConfig, gather: Gather, stats: Callable[[], pb.ServerStats]) -> HttpEndpoint:
    """Serve the hub's page on ``config.web_port`` (loopback unless the hub has TLS and tokens) and sample
    its history until the endpoint stops; its ``/metrics`` is the metrics text of ``stats()``."""
    assert config.web_port is not None
    latest = _Latest(gather)

    def read() -> dict[str, Reading | None]:
        at, _, hosts = latest.get()
        return readings(hosts, at)

    return serve_page(
        read,
        lambda history: page_app(
            lambda: latest.get()[1], ChartCache(history), metrics_app(stats), title="remote-gym hub"
        ),
        config.host,
        config.web_port,
        tls=config.tls,
        tokens=config.tokens,
    )
