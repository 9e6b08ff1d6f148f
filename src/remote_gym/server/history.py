"""The monitoring page's recent past: the server's figures sampled every few seconds into bounded rings.

A thread takes a :class:`~remote_gym.server.metrics.Snapshot` every ``interval_s`` (the same one a
scrape takes) and keeps, per interval: steps/s, the step time's p50 and p99 over that interval (the
difference of the step-time histograms at its two ends), open sessions, resumes, refusals and worker
memory — for the server over ``window_s``, and steps/s and step times per open session over
``session_window_s``. Memory is bounded: fixed-length rings, at most ``max_sessions`` sessions
followed, a closed session's ring dropped at the next sample.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field

from remote_gym.server.handlers.meter import BUCKETS, add_histograms, quantile, subtract_histograms
from remote_gym.server.metrics import ServerMetrics, Snapshot, totals

logger = logging.getLogger(__name__)

HISTORY_INTERVAL_S = 2.0
"""Seconds between two samples."""
HISTORY_WINDOW_S = 600.0
"""The server's figures are kept this long (300 samples)."""
SESSION_WINDOW_S = 120.0
"""Each session's figures are kept this long (60 samples)."""
MAX_SESSIONS_FOLLOWED = 256
"""Sessions beyond this many get no history of their own (the server's totals still count them)."""


@dataclass(frozen=True)
class Point:
    """The server's figures over one interval."""

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


@dataclass
class _Previous:
    at: float
    steps: int
    resumes: int
    refusals: int
    histogram: list[int]
    sessions: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    """Steps and step-time histogram of each followed session."""


class History:
    """Bounded rings of the server's and its sessions' recent figures, filled by a sampling thread."""

    def __init__(
        self,
        metrics: ServerMetrics,
        *,
        interval_s: float = HISTORY_INTERVAL_S,
        window_s: float = HISTORY_WINDOW_S,
        session_window_s: float = SESSION_WINDOW_S,
        max_sessions: int = MAX_SESSIONS_FOLLOWED,
    ) -> None:
        self._metrics = metrics
        self.interval_s = interval_s
        self.points: deque[Point] = deque(maxlen=max(int(window_s / interval_s), 2))
        self.sessions: dict[str, deque[SessionPoint]] = {}
        self._session_points = max(int(session_window_s / interval_s), 2)
        self._max_sessions = max_sessions
        self._previous: _Previous | None = None
        self.lock = threading.Lock()
        """Held while the rings change (readers copy them under it)."""
        self.samples = 0
        """Samples taken so far (a reader's cache key)."""
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
                self.add(self._metrics.snapshot())
            except Exception as exc:  # the server stopping under a sample, or a timeout: try again later
                logger.debug("history sample skipped: %s", exc)

    def add(self, snap: Snapshot) -> None:
        """Take in one snapshot: append the figures of the interval since the previous one."""
        t = totals(snap)
        histogram = add_histograms(snap.step_times.values()) if snap.step_times else [0] * BUCKETS
        sessions = {
            row.session_id: (row.steps, snap.session_steps.get(row.session_id, [0] * BUCKETS))
            for row in snap.sessions[: self._max_sessions]
        }
        now = _Previous(snap.taken_at, t.steps, t.session_resumes, t.refusals, histogram, sessions)
        before = self._previous
        self._previous = now
        if before is None or now.at <= before.at:
            return
        dt = now.at - before.at
        recent = subtract_histograms(histogram, before.histogram)
        point = Point(
            at=now.at,
            steps_per_s=max(now.steps - before.steps, 0) / dt,
            step_p50_s=quantile(recent, 0.5),
            step_p99_s=quantile(recent, 0.99),
            sessions=len(snap.sessions),
            resumes=max(now.resumes - before.resumes, 0),
            refusals=max(now.refusals - before.refusals, 0),
            worker_bytes=t.workers_resident_bytes,
        )
        with self.lock:
            self.points.append(point)
            for session_id in list(self.sessions):
                if session_id not in sessions:
                    del self.sessions[session_id]
            for session_id, (steps, steps_histogram) in sessions.items():
                last = before.sessions.get(session_id)
                if last is None:
                    continue
                recent = subtract_histograms(steps_histogram, last[1])
                ring = self.sessions.setdefault(session_id, deque(maxlen=self._session_points))
                ring.append(
                    SessionPoint(
                        now.at, max(steps - last[0], 0) / dt, quantile(recent, 0.5), quantile(recent, 0.99)
                    )
                )
            self.samples += 1

    def copy(self) -> tuple[int, list[Point], dict[str, list[SessionPoint]]]:
        """``(samples, points, points by session)``, copied under the lock."""
        with self.lock:
            return self.samples, list(self.points), {key: list(ring) for key, ring in self.sessions.items()}
