"""The server's HTTP endpoints: Prometheus metrics, and a live page of the sessions; both read-only.

Each runs a :class:`~remote_gym.transport.http.HttpEndpoint` in the server process (over HTTPS with
the server's certificate when it has TLS, for holders of the server's token when it has tokens).
Metrics use prometheus-client's own WSGI app.
"""

from __future__ import annotations

import logging

from google.protobuf.message import Message
from prometheus_client import make_wsgi_app

from remote_gym.monitoring.buckets import BUCKETS, add_histograms
from remote_gym.monitoring.history import MAX_SESSIONS_FOLLOWED, TOTAL, History, Reading
from remote_gym.monitoring.page import ChartCache, page_app, serve_page
from remote_gym.server.config import ServerConfig
from remote_gym.server.metrics import ServerMetrics, Snapshot, totals
from remote_gym.server.thumbnails import Thumbnails
from remote_gym.transport.http import HttpEndpoint, WSGIApp

logger = logging.getLogger(__name__)


def start_endpoints(
    config: ServerConfig, metrics: ServerMetrics, thumbnails: Thumbnails
) -> tuple[HttpEndpoint | None, HttpEndpoint | None]:
    """Start the metrics endpoint and the page that ``config`` asks for; ``(metrics, page)``, None where not.

    The page binds loopback unless the server has TLS and tokens (then it binds the server's host,
    over HTTPS, for token holders only): it shows peers and frames, which anyone on the network
    must not see.
    """
    served = None
    page = None
    try:
        if config.metrics_port is not None:
            served = HttpEndpoint(
                metrics_app(metrics), config.host, config.metrics_port, tls=config.tls, tokens=config.tokens
            )
            logger.info("metrics at %smetrics", served.url)
        if config.web_port is not None:
            page = serve_page(
                lambda: {TOTAL: reading(metrics.snapshot())},
                lambda history: web_app(metrics, thumbnails, history),
                config.host,
                config.web_port,
                tls=config.tls,
                tokens=config.tokens,
            )
            logger.info("monitoring page at %s", page.url)
    except BaseException:
        if served is not None:
            served.stop()
        raise
    return served, page


def metrics_app(metrics: ServerMetrics) -> WSGIApp:
    """prometheus-client's exposition app over the server's registry."""
    app: WSGIApp = make_wsgi_app(metrics.registry)
    return app


def web_app(metrics: ServerMetrics, thumbnails: Thumbnails, history: History) -> WSGIApp:
    """The monitoring page (``/``), its data (``/stats.json``), its charts (``/charts.json``), frames
    (``/frame/ID.png``) and ``/metrics``."""

    def stats() -> Message:
        # The workers' own figures (the lane's) as of the last time anyone asked them (the history
        # asks every interval): an open page costs no round trip to every worker each second.
        snapshot = metrics.snapshot(status_age_s=3 * history.interval_s, detail=False)
        return metrics.stats(snapshot, with_text=False)

    return page_app(stats, ChartCache(history), metrics_app(metrics), thumbnails.png)


def reading(snap: Snapshot, max_sessions: int = MAX_SESSIONS_FOLLOWED) -> Reading:
    """The history's reading of the server from ``snap`` (its first ``max_sessions`` sessions followed)."""
    t = totals(snap)
    return Reading(
        at=snap.taken_at,
        steps=t.steps,
        resumes=t.session_resumes,
        refusals=t.refusals,
        histogram=add_histograms(snap.step_times.values()) if snap.step_times else [0] * BUCKETS,
        sessions=len(snap.sessions),
        worker_bytes=t.workers_resident_bytes,
        session_steps={
            row.session_id: (row.steps, snap.session_steps.get(row.session_id, [0] * BUCKETS))
            for row in snap.sessions[:max_sessions]
        },
    )
