"""The plots of the benchmark page (make_page.py), with matplotlib (`uv run --extra plots ...`)."""

from __future__ import annotations

import pathlib
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import matplotlib.ticker

OURS = "#3f51b5"
PEER = "#9e9e9e"
LOCAL = "#4caf50"


def footer(results: dict[str, Any]) -> str:
    """Machine, versions and date, for the foot of every figure."""
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    peers = ", ".join(f"{k} {v}" for k, v in results["peers"].items())
    return (
        f"{m['cpu']}, {m['cpus']} CPUs, Python {m['python']}, load avg {m['load_before']:.1f}-{m['load_after']:.1f}, "
        f"not pinned; {m['date']}\n{versions}" + (f"; peers: {peers}" if peers else "")
    )


def _finish(figure: Any, text: str, path: pathlib.Path) -> None:
    figure.text(0.01, 0.01, text, fontsize=7, color="#555555", va="bottom")
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _colour(name: str) -> str:
    if name.startswith("local"):
        return LOCAL
    return OURS if name.startswith("remote-gym,") or name.startswith("remote-gym RemoteVectorEnv") else PEER


def step_time(rows: list[tuple[str, float, float]], text: str, path: pathlib.Path) -> None:
    """Horizontal bars: µs per step of one env, per configuration (log scale)."""
    figure, axes = plt.subplots(figsize=(9, 4.2))
    names = [row[0] for row in rows][::-1]
    values = [row[1] for row in rows][::-1]
    bars = axes.barh(names, values, color=[_colour(n) for n in names])
    axes.bar_label(bars, labels=[f"{v:,.0f} µs" for v in values], padding=3, fontsize=8)
    axes.set_xscale("log")
    axes.set_xlabel("µs per CartPole-v1 step (median; log scale; lower is faster)")
    axes.set_title("One environment: time per step")
    axes.margins(x=0.25)
    _finish(figure, text, path)


def scaling(series: dict[str, dict[int, float]], text: str, path: pathlib.Path) -> None:
    """Lines: env-steps/s against the number of envs (log-log)."""
    figure, axes = plt.subplots(figsize=(9, 4.8))
    for label, points in series.items():
        sizes = sorted(points)
        axes.plot(sizes, [points[n] for n in sizes], marker="o", label=label)
    axes.set_xscale("log", base=2)
    sizes_measured = sorted({n for points in series.values() for n in points})
    axes.set_xticks(sizes_measured, [str(n) for n in sizes_measured])
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes.set_yscale("log")
    axes.set_xlabel("number of envs")
    axes.set_ylabel("env-steps/s (median; log scale)")
    axes.set_title("CartPole-v1: env-steps/s against the number of envs")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    _finish(figure, text, path)


def connect(rows: list[tuple[str, float]], text: str, path: pathlib.Path) -> None:
    """Bars: connect + first reset, per library."""
    figure, axes = plt.subplots(figsize=(9, 3.2))
    names = [row[0] for row in rows][::-1]
    values = [row[1] for row in rows][::-1]
    colours = [OURS if n.startswith("remote-gym 1") else PEER for n in names]
    bars = axes.barh(names, values, color=colours)
    axes.bar_label(bars, labels=[f"{v:,.0f} ms" for v in values], padding=3, fontsize=8)
    axes.set_xlabel("connect + first reset, ms (median; lower is faster)")
    axes.set_title("Connect and first reset")
    axes.margins(x=0.2)
    _finish(figure, text, path)
