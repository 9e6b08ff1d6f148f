"""The server's HTTP endpoints: Prometheus metrics, and a live page of the sessions; both read-only.

Each runs a :class:`~remote_gym.transport.http.HttpEndpoint` in the server process (over HTTPS with
the server's certificate when it has TLS, for holders of the server's token when it has tokens).
Metrics use prometheus-client's own WSGI app.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from google.protobuf.message import Message
from prometheus_client import make_wsgi_app

from remote_gym.server.charts import server_charts, session_sparks
from remote_gym.server.config import ServerConfig
from remote_gym.server.history import History
from remote_gym.server.metrics import ServerMetrics
from remote_gym.server.thumbnails import Thumbnails
from remote_gym.transport.http import HttpEndpoint, WSGIApp, reply
from remote_gym.transport.tls import is_loopback

logger = logging.getLogger(__name__)

_FRAME_PATH = re.compile(r"^/frame/([0-9a-f]{1,64})\.png$")


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
            guarded = config.tls is not None and bool(config.tokens)
            host = config.host if guarded or is_loopback(config.host) else "127.0.0.1"
            if host != config.host:
                logger.warning(
                    "the monitoring page listens on 127.0.0.1 only: serving it on %s needs TLS and a token",
                    config.host,
                )
            history = History(metrics)
            page = HttpEndpoint(
                web_app(metrics, thumbnails, history),
                host,
                config.web_port,
                tls=config.tls,
                tokens=config.tokens,
                on_stop=history.stop,
            )
            history.start()
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
    page = resources.files("remote_gym.server").joinpath("monitor.html").read_bytes()
    exposition = metrics_app(metrics)
    charts = _ChartCache(history)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/":
            return reply(start_response, "200 OK", "text/html; charset=utf-8", page)
        if path == "/stats.json":
            # The workers' own figures (the lane's) as of the last time anyone asked them (the history
            # asks every interval): an open page costs no round trip to every worker each second.
            snapshot = metrics.snapshot(status_age_s=3 * history.interval_s, detail=False)
            stats = metrics.stats(snapshot, with_text=False)
            body = json.dumps(_plain(stats)).encode()
            return reply(start_response, "200 OK", "application/json", body)
        if path == "/charts.json":
            return reply(start_response, "200 OK", "application/json", charts.body())
        if path == "/metrics":
            return exposition(environ, start_response)
        match = _FRAME_PATH.match(path)
        if match:
            png = thumbnails.png(match.group(1))
            if png is not None:
                return reply(start_response, "200 OK", "image/png", png)
        return reply(start_response, "404 Not Found", "text/plain", b"not found\n")

    return app


def _plain(message: Message) -> dict[str, Any]:
    """``message`` as JSON-ready data, every field present, by its proto name (as ``json_format`` writes
    it with ``always_print_fields_with_no_presence`` and ``preserving_proto_field_name``, 64-bit
    integers as numbers); a tenth of ``json_format``'s time for the page's 64 rows."""
    plain: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        repeated = bool(field.is_repeated)
        if field.message_type is not None:
            plain[field.name] = [_plain(each) for each in value] if repeated else _plain(value)
        elif repeated:
            plain[field.name] = list(value)
        else:
            plain[field.name] = value
    return plain


class _ChartCache:
    """The charts as JSON (``{"interval_s", "samples", "charts": {name: svg}, "sessions": {id: svg}}``),
    drawn once per history sample however many pages ask."""

    def __init__(self, history: History) -> None:
        self._history = history
        self._lock = threading.Lock()
        self._drawn: tuple[int, bytes] | None = None

    def body(self) -> bytes:
        with self._lock:
            samples, points, sessions = self._history.copy()
            if self._drawn is None or self._drawn[0] != samples:
                now = points[-1].at if points else time.monotonic()
                kept_s = (self._history.points.maxlen or 1) * self._history.interval_s
                shown_s = now - points[0].at + self._history.interval_s if points else 0.0
                charts = {
                    "interval_s": self._history.interval_s,
                    "samples": samples,
                    # The window kept, or less while the server is young (at least a minute).
                    "charts": server_charts(points, now=now, window_s=min(kept_s, max(shown_s, 60.0))),
                    "sessions": session_sparks(sessions),
                }
                self._drawn = (samples, json.dumps(charts).encode())
            return self._drawn[1]
