"""A monitoring page's recent past: figures sampled every few seconds into bounded rings.

A thread reads the cumulative figures of one or several sources every ``interval_s`` (a server has
one, ``""``; a hub one per host and ``""`` for their sum) and keeps, per source and interval:
steps/s, the step time's p50 and p99 over that interval (the difference of the step-time histograms
at its two ends), open sessions, resumes, refusals and worker memory over ``window_s``, and steps/s
and step times per open session over ``session_window_s``. Memory is bounded: fixed-length rings,
at most :data:`MAX_SESSIONS_FOLLOWED` sessions (the reader's cut) and ``max_sources`` sources followed, a closed session's or a gone
source's ring dropped at the next sample.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from remote_gym.monitoring.buckets import quantile, subtract_histograms

logger = logging.getLogger(__name__)

HISTORY_INTERVAL_S = 2.0
"""Seconds between two samples."""
HISTORY_WINDOW_S = 600.0
"""The figures of each source are kept this long (300 samples)."""
SESSION_WINDOW_S = 120.0
"""Each session's figures are kept this long (60 samples)."""
MAX_SESSIONS_FOLLOWED = 256
"""Sessions beyond this many get no history of their own (the totals still count them)."""
MAX_SOURCES_FOLLOWED = 64
"""Sources (a hub's hosts) beyond this many get no history of their own."""
TOTAL = ""
"""The key of the source that is the whole server (or the sum of a hub's hosts)."""


@dataclass(frozen=True)
class Reading:
    """A source's cumulative figures at one moment (the history makes intervals of two)."""

    at: float
    """When it was read (monotonic seconds)."""
    steps: int
    resumes: int
    refusals: int
    histogram: list[int]
    """Step times since the source started (counts per bucket of :mod:`remote_gym.monitoring.buckets`)."""
    sessions: int
    """Sessions open now."""
    worker_bytes: int
    """Resident memory of all workers now."""
    session_steps: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    """Steps and step-time histogram of each open session followed, by session id."""


@dataclass(frozen=True)
class Point:
    """A source's figures over one interval."""

    at: float
    """When the interval ended (monotonic seconds)."""
    steps_per_s: float
    step_p50_s: float
    step_p99_s: float
    sessions: int
    resumes: int
    """Sessions resumed during the interval."""
    refusals: int
    """Sessions or calls refused during the interval."""
    worker_bytes: int
    """Resident memory of all workers at its end."""


@dataclass(frozen=True)
class SessionPoint:
    """One session's figures over one interval."""

    at: float
    steps_per_s: float
    step_p50_s: float
    step_p99_s: float


class Rings:
    """One source's points, and its sessions' (bounded rings), made from its successive readings."""

    def __init__(self, points: int, session_points: int) -> None:
        self.points: deque[Point] = deque(maxlen=points)
        self.sessions: dict[str, deque[SessionPoint]] = {}
        self._session_points = session_points
        self._previous: Reading | None = None

    def add(self, now: Reading) -> bool:
        """Take in one reading: append the figures of the interval since the previous one (if any)."""
        before = self._previous
        self._previous = now
        if before is None or now.at <= before.at:
            return False
        dt = now.at - before.at
        recent = subtract_histograms(now.histogram, before.histogram)
        self.points.append(
            Point(
                at=now.at,
                steps_per_s=max(now.steps - before.steps, 0) / dt,
                step_p50_s=quantile(recent, 0.5),
                step_p99_s=quantile(recent, 0.99),
                sessions=now.sessions,
                resumes=max(now.resumes - before.resumes, 0),
                refusals=max(now.refusals - before.refusals, 0),
                worker_bytes=now.worker_bytes,
            )
        )
        for session_id in list(self.sessions):
            if session_id not in now.session_steps:
                del self.sessions[session_id]
        for session_id, (steps, histogram) in now.session_steps.items():
            last = before.session_steps.get(session_id)
            if last is None:
                continue
            recent = subtract_histograms(histogram, last[1])
            ring = self.sessions.setdefault(session_id, deque(maxlen=self._session_points))
            ring.append(
                SessionPoint(
                    now.at, max(steps - last[0], 0) / dt, quantile(recent, 0.5), quantile(recent, 0.99)
                )
            )
        return True


class History:
    """Bounded rings of recent figures, by source, filled by a sampling thread that calls ``read``."""

    def __init__(
        self,
        read: Callable[[], dict[str, Reading | None]],
        *,
        interval_s: float = HISTORY_INTERVAL_S,
        window_s: float = HISTORY_WINDOW_S,
        session_window_s: float = SESSION_WINDOW_S,
        max_sources: int = MAX_SOURCES_FOLLOWED,
    ) -> None:
        self._read = read
        self.interval_s = interval_s
        self.window_points = max(int(window_s / interval_s), 2)
        """Points kept per source."""
        self._session_points = max(int(session_window_s / interval_s), 2)
        self._max_sources = max_sources
        self.rings: dict[str, Rings] = {}
        self.lock = threading.Lock()
        """Held while the rings change (readers copy them under it)."""
        self.samples = 0
        """Samples that added a point so far (a reader's cache key)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Sample every ``interval_s`` from a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="remote-gym-history", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (waits for a sample in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.add(self._read())
            except Exception as exc:  # the server stopping under a sample, or a timeout: try again later
                logger.debug("history sample skipped: %s", exc)

    def add(self, readings: dict[str, Reading | None]) -> None:
        """Take in one reading per source; a source absent from ``readings`` loses its rings, one whose
        reading is None (a hub's host that did not answer this time) keeps them."""
        with self.lock:
            for key in list(self.rings):
                if key not in readings:
                    del self.rings[key]
            added = False
            for key, reading in readings.items():
                if reading is None:
                    continue
                rings = self.rings.get(key)
                if rings is None:
                    if len(self.rings) >= self._max_sources:
                        continue
                    rings = self.rings[key] = Rings(self.window_points, self._session_points)
                added |= rings.add(reading)
            if added:
                self.samples += 1

    def copy(self) -> tuple[int, dict[str, list[Point]], dict[str, list[SessionPoint]]]:
        """``(samples, points by source, points by session of every source)``, copied under the lock."""
        with self.lock:
            points = {key: list(rings.points) for key, rings in self.rings.items()}
            sessions = {
                session_id: list(ring)
                for rings in self.rings.values()
                for session_id, ring in rings.sessions.items()
            }
            return self.samples, points, sessions
