"""The monitoring page over HTTP, for a server and a hub alike: the page, its figures, its charts, /metrics.

The page (``/``) asks every second for ``/stats.json`` (the ``GetStats`` answer as JSON) and
``/charts.json`` (SVG charts drawn from the history, once per sample however many pages ask). A
server adds ``/frame/ID.png`` (each session's latest frame); a hub keeps no frames.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from typing import Any

from google.protobuf.message import Message

from remote_gym.monitoring.charts import server_charts, session_sparks
from remote_gym.monitoring.history import TOTAL, History, Point, Reading
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.http import HttpEndpoint, WSGIApp, reply
from remote_gym.transport.tls import ServerTLSConfig, is_loopback

logger = logging.getLogger(__name__)

_FRAME_PATH = re.compile(r"^/frame/([0-9a-f]{1,64})\.png$")
_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9_-]")


def page_host(host: str, tls: ServerTLSConfig | None, tokens: Sequence[TokenAuth]) -> str:
    """Where the page listens: ``host`` if it is loopback or the page has TLS and tokens, else 127.0.0.1
    (it shows peers and frames, which anyone on the network must not see)."""
    if (tls is not None and bool(tokens)) or is_loopback(host):
        return host
    logger.warning(
        "the monitoring page listens on 127.0.0.1 only: serving it on %s needs TLS and a token", host
    )
    return "127.0.0.1"


def serve_page(
    read: Callable[[], dict[str, Reading | None]],
    app: Callable[[History], WSGIApp],
    host: str,
    port: int,
    *,
    tls: ServerTLSConfig | None,
    tokens: Sequence[TokenAuth],
) -> HttpEndpoint:
    """Serve ``app(history)`` on ``port`` (on ``host`` where :func:`page_host` allows it), the history
    sampling ``read`` from when it starts until the endpoint stops."""
    history = History(read)
    endpoint = HttpEndpoint(
        app(history), page_host(host, tls, tokens), port, tls=tls, tokens=tokens, on_stop=history.stop
    )
    history.start()
    return endpoint


def page_app(
    stats: Callable[[], Message],
    charts: ChartCache,
    metrics: WSGIApp,
    frame: Callable[[str], bytes | None] | None = None,
    *,
    title: str = "remote-gym server",
) -> WSGIApp:
    """The page (``/``, headed ``title``), ``stats()`` as JSON (``/stats.json``), the charts
    (``/charts.json``), ``metrics`` (``/metrics``) and, with ``frame``, each session's latest frame
    (``/frame/ID.png``)."""
    page = resources.files("remote_gym.monitoring").joinpath("monitor.html").read_bytes()
    page = page.replace(b"remote-gym server", html.escape(title).encode())

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/":
            return reply(start_response, "200 OK", "text/html; charset=utf-8", page)
        if path == "/stats.json":
            return reply(start_response, "200 OK", "application/json", json.dumps(plain(stats())).encode())
        if path == "/charts.json":
            return reply(start_response, "200 OK", "application/json", charts.body())
        if path == "/metrics":
            return metrics(environ, start_response)
        match = _FRAME_PATH.match(path)
        if match and frame is not None:
            png = frame(match.group(1))
            if png is not None:
                return reply(start_response, "200 OK", "image/png", png)
        return reply(start_response, "404 Not Found", "text/plain", b"not found\n")

    return app


def plain(message: Message) -> dict[str, Any]:
    """``message`` as JSON-ready data, every field present, by its proto name (as ``json_format`` writes
    it with ``always_print_fields_with_no_presence`` and ``preserving_proto_field_name``, 64-bit
    integers as numbers); a tenth of ``json_format``'s time for the page's 64 rows."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        repeated = bool(field.is_repeated)
        if field.message_type is not None:
            result[field.name] = [plain(each) for each in value] if repeated else plain(value)
        elif repeated:
            result[field.name] = list(value)
        else:
            result[field.name] = value
    return result


class ChartCache:
    """The charts as JSON, drawn once per history sample however many pages ask: ``{"interval_s",
    "samples", "charts": {name: svg}, "hosts": {host: {name: svg}}, "sessions": {id: svg}}`` (``charts``
    of the whole server or the sum of a hub's hosts, ``hosts`` a hub's own per host)."""

    def __init__(self, history: History) -> None:
        self._history = history
        self._lock = threading.Lock()
        self._drawn: tuple[int, bytes] | None = None

    def body(self) -> bytes:
        with self._lock:
            samples, points, sessions = self._history.copy()
            if self._drawn is None or self._drawn[0] != samples:
                total = points.get(TOTAL, [])
                now = total[-1].at if total else time.monotonic()
                kept_s = self._history.window_points * self._history.interval_s
                shown_s = now - total[0].at + self._history.interval_s if total else 0.0
                # The window kept, or less while the server is young (at least a minute).
                window_s = min(kept_s, max(shown_s, 60.0))

                def draw(of: list[Point], prefix: str = "", name: str = "") -> dict[str, str]:
                    return server_charts(of, now=now, window_s=window_s, prefix=prefix, of=name)

                charts = {
                    "interval_s": self._history.interval_s,
                    "samples": samples,
                    "charts": draw(total),
                    "hosts": {
                        name: draw(each, f"host-{_UNSAFE_IN_ID.sub('_', name)}-", name)
                        for name, each in sorted(points.items())
                        if name != TOTAL
                    },
                    "sessions": session_sparks(sessions),
                }
                self._drawn = (samples, json.dumps(charts).encode())
            return self._drawn[1]
