"""Run episodes with a random agent and summarise them in a rich table (shared by demo and interact)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


@dataclass(frozen=True)
class EpisodeResult:
    """One episode's figures."""

    episode: int
    episode_return: float
    length: int
    seconds: float
    step_latencies_s: tuple[float, ...]

    @property
    def steps_per_s(self) -> float:
        """Steps per second over the episode."""
        return self.length / self.seconds if self.seconds > 0 else float("nan")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_episodes(
    env: gym.Env[Any, Any],
    episodes: int,
    *,
    seed: int | None,
    console: Console,
    max_steps: int | None = None,
    on_transition: Callable[[], None] | None = None,
) -> list[EpisodeResult]:
    """Play ``episodes`` episodes with uniformly random actions, showing a progress bar.

    ``on_transition`` (e.g. fetching a frame to record) runs after every reset and step; its time
    is left out of the figures.
    """
    results = []
    env.action_space.seed(seed)
    columns = (TextColumn("[bold]episodes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

    def after() -> float:
        if on_transition is None:
            return 0.0
        t0 = time.perf_counter()
        on_transition()
        return time.perf_counter() - t0

    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("episodes", total=episodes)
        for episode in range(episodes):
            env.reset(seed=None if seed is None else seed + episode)
            total, length, latencies = 0.0, 0, []
            start = time.perf_counter()
            outside = after()
            while True:
                t0 = time.perf_counter()
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                latencies.append(time.perf_counter() - t0)
                total += float(reward)
                length += 1
                outside += after()
                if terminated or truncated or (max_steps is not None and length >= max_steps):
                    break
            seconds = time.perf_counter() - start - outside
            results.append(EpisodeResult(episode, total, length, seconds, tuple(latencies)))
            progress.advance(task)
    return results


def results_table(results: list[EpisodeResult], *, title: str) -> Table:
    """A table of per-episode figures with a summary row."""
    table = Table(title=title)
    for name in ("episode", "return", "length", "steps/s", "step p50 (µs)", "step p99 (µs)"):
        table.add_column(name, justify="right")
    every: list[float] = []
    for r in results:
        lat = list(r.step_latencies_s)
        every.extend(lat)
        table.add_row(
            str(r.episode),
            f"{r.episode_return:.1f}",
            str(r.length),
            f"{r.steps_per_s:,.0f}",
            f"{_percentile(lat, 0.5) * 1e6:,.0f}",
            f"{_percentile(lat, 0.99) * 1e6:,.0f}",
        )
    if results:
        steps = sum(r.length for r in results)
        seconds = sum(r.seconds for r in results)
        table.add_section()
        table.add_row(
            "all",
            f"{statistics.fmean(r.episode_return for r in results):.1f} (mean)",
            str(steps),
            f"{steps / seconds:,.0f}" if seconds > 0 else "-",
            f"{_percentile(every, 0.5) * 1e6:,.0f}",
            f"{_percentile(every, 0.99) * 1e6:,.0f}",
            style="bold",
        )
    return table
