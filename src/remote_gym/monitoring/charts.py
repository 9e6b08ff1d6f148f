"""The monitoring page's charts, drawn by the server (or hub) as small SVG documents from its history.

Drawn here rather than in the browser by a chart library: the page then needs no script beyond its
own, nothing to vendor, update or audit, and it works offline and without any CDN; the charts are
plain lines over a time axis, which a few dozen lines of SVG draw, and tests read them as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from remote_gym.monitoring.history import Point, SessionPoint

WIDTH, HEIGHT = 296, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 10, 24, 20
SPARK_WIDTH, SPARK_HEIGHT = 130, 28

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


@dataclass(frozen=True)
class Series:
    """One line of a chart."""

    label: str
    values: Sequence[float]


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value`` (1 when it is 0)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover


def line_chart(
    name: str,
    title: str,
    times: Sequence[float],
    series: Sequence[Series],
    *,
    now: float,
    window_s: float,
    fmt: Callable[[float], str],
    of: str = "",
) -> str:
    """An SVG line chart of ``series`` over ``times`` (monotonic seconds), the last ``window_s`` up to ``now``.

    Each line is a ``<polyline class="series">`` whose ``data-points`` says how many points it has.
    ``of`` (a hub's host) starts its hover title; the page heads its row of charts with it.
    """
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    top = _nice_top(max((v for s in series for v in s.values), default=0.0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{html.escape(name)}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
        f"<title>{html.escape(f'{of}: {title}' if of else title)}</title>",
        f'<text x="4" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
    ]
    x_legend = WIDTH - _RIGHT
    for i, each in reversed(list(enumerate(series))):
        if len(series) > 1:
            parts.append(
                f'<text x="{x_legend}" y="14" font-size="11" text-anchor="end" '
                f'fill="{COLOURS[i % len(COLOURS)]}">{html.escape(each.label)}</text>'
            )
            x_legend -= 7 * len(each.label) + 8
    for fraction in (0.0, 0.5, 1.0):
        y = _TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#555">'
            f"{html.escape(fmt(top * fraction))}</text>"
        )
    parts.append(
        f'<text x="{_LEFT}" y="{HEIGHT - 5}" font-size="10" fill="#555">−{_duration(window_s)}</text>'
        f'<text x="{WIDTH - _RIGHT}" y="{HEIGHT - 5}" font-size="10" text-anchor="end" fill="#555">now</text>'
    )
    for i, each in enumerate(series):
        coords = [
            (
                _LEFT + plot_w * (1 - min(max(now - t, 0.0), window_s) / window_s),
                _TOP + plot_h * (1 - v / top),
            )
            for t, v in zip(times, each.values, strict=True)
        ]
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<polyline class="series" data-label="{html.escape(each.label)}" data-points="{len(coords)}" '
            f'fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        if len(coords) == 1:
            x, y = coords[0]
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(name: str, values: Sequence[float], title: str) -> str:
    """A tiny SVG line of ``values`` (oldest first), scaled to its own maximum; ``title`` on hover."""
    top = _nice_top(max(values, default=0.0))
    n = len(values)
    step = (SPARK_WIDTH - 2) / max(n - 1, 1)
    points = " ".join(
        f"{1 + i * step:.1f},{1 + (SPARK_HEIGHT - 2) * (1 - v / top):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" id="spark-{html.escape(name)}" '
        f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}">'
        f"<title>{html.escape(title)}</title>"
        f'<polyline class="series" data-points="{n}" fill="none" stroke="{COLOURS[0]}" '
        f'stroke-width="1.2" points="{points}"/></svg>'
    )


def server_charts(
    points: Sequence[Point], *, now: float, window_s: float, prefix: str = "", of: str = ""
) -> dict[str, str]:
    """The page's charts of a source's recent figures, by name (the SVG's id is ``chart-{prefix}{name}``;
    ``of``, when given, starts each hover title: a hub's host)."""
    times = [p.at for p in points]

    def chart(name: str, title: str, fmt: Callable[[float], str], *series: Series) -> tuple[str, str]:
        return name, line_chart(
            prefix + name, title, times, series, now=now, window_s=window_s, fmt=fmt, of=of
        )

    return dict(
        (
            chart("steps", "steps/s", _count, Series("steps/s", [p.steps_per_s for p in points])),
            chart(
                "step-time",
                "step time",
                _ms,
                Series("p50", [p.step_p50_s for p in points]),
                Series("p99", [p.step_p99_s for p in points]),
            ),
            chart("sessions", "open sessions", _count, Series("sessions", [p.sessions for p in points])),
            chart(
                "events",
                "resumes and refusals",
                _count,
                Series("resumes", [p.resumes for p in points]),
                Series("refusals", [p.refusals for p in points]),
            ),
            chart("memory", "worker memory", _mib, Series("memory", [p.worker_bytes for p in points])),
        )
    )


def session_sparks(sessions: dict[str, list[SessionPoint]]) -> dict[str, str]:
    """Each session's steps/s over its recent past, as a sparkline, by session id."""
    sparks = {}
    for session_id, points in sessions.items():
        last = points[-1] if points else None
        title = (
            f"steps/s now {last.steps_per_s:.0f}; step time p50 {_ms(last.step_p50_s)}, p99 {_ms(last.step_p99_s)}"
            if last
            else "no history yet"
        )
        sparks[session_id] = sparkline(session_id, [p.steps_per_s for p in points], title)
    return sparks


def _count(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _ms(seconds: float) -> str:
    if not seconds:
        return "0 ms"
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def _mib(size: float) -> str:
    return f"{size / 1048576:.0f} MiB"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
