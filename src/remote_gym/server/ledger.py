"""What the server counts: each session's requests (plain integers on the hot path) and the server's events.

Requests that pass through the gRPC process are timed and counted there, as they pass (a
:class:`~remote_gym.server.handlers.meter.RequestMeter`). What it cannot see (requests a same-host
client sends its worker over the lane, sub-envs recreated inside a worker) the worker times and counts
with a meter of its own and reports when asked (:class:`~remote_gym.wire.control.WorkerStatus`),
and :meth:`SessionCounts.add_status` takes it in. Counts of closed sessions are folded into per-env
totals, so nothing is lost when a session ends.

Events (a session opened, closed, resumed, a worker crash, a refused call) are counted here and logged
here, once each, with ``extra`` fields named like the metrics' labels (``env``, ``reason``), which
``serve --log-format json`` writes out as they are.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from remote_gym.codec.requests import REQUEST_KINDS
from remote_gym.server.handlers.meter import BUCKETS, RequestMeter, add_histograms, subtract_histograms
from remote_gym.wire.control import WorkerStatus

logger = logging.getLogger("remote_gym.server")

_KINDS = len(REQUEST_KINDS)

RECENT_S = 60.0
"""A session's p50/p99 cover its steps of the last RECENT_S to 2 * RECENT_S seconds."""


def _ignore(seconds: float) -> None:
    """An observer that keeps nothing."""


class SessionCounts:
    """One session's requests on every path: what the servicer records on the gRPC path, and what its
    worker reports of its same-host lane (a :class:`RequestMeter` each)."""

    __slots__ = (
        "_marks",
        "env_restarts",
        "lane",
        "lane_name",
        "lane_offered",
        "meter",
        "observe",
        "opened_at",
    )

    def __init__(
        self,
        observe: Sequence[Callable[[float], None]] = (),
        *,
        lane_offered: bool = False,
        lane_name: str = "lane",
    ) -> None:
        self.meter = RequestMeter(_KINDS)
        """Requests that passed through the gRPC process."""
        self.lane: RequestMeter | None = None
        """Requests its worker answered on the same-host lane, as of its last report."""
        self.lane_offered = lane_offered
        """Whether the session was offered a lane."""
        self.lane_name = lane_name
        """Its lane's path name: ``"lane"`` (same host) or ``"network-lane"`` (a client on another host)."""
        self.observe = list(observe) or [_ignore] * _KINDS
        """Per kind: also record a latency elsewhere (the server's histogram)."""
        self.opened_at = time.monotonic()
        self.env_restarts = 0
        """Sub-envs recreated after they raised, as its worker last reported."""
        self._marks: list[tuple[float, list[int] | None]] = [(self.opened_at, None)] * 2
        """(when, step histogram then) at the last two turns of :meth:`recent_steps`' window."""

    def record(self, kind: int, size_in: int, size_out: int, seconds: float) -> None:
        """Count one answered request of ``kind`` (see :func:`~remote_gym.codec.requests.request_kind`)."""
        self.meter.record(kind, size_in, size_out, seconds)
        self.observe[kind](seconds)

    def add_status(self, status: WorkerStatus) -> None:
        """Take in its worker's report: what it answered on its lane (the server never sees those
        requests), and its sub-env restarts."""
        if status.lane_meter is not None:
            # A report from a worker of another version: keep the last one understood.
            with contextlib.suppress(ValueError):
                self.lane = RequestMeter.from_json(status.lane_meter, _KINDS)
        elif status.lane_requests is not None:
            lane = self.lane = self.lane or RequestMeter(_KINDS)
            for kind, n in enumerate(status.lane_requests[:_KINDS]):
                lane.requests[kind] = n
        self.env_restarts = max(self.env_restarts, status.env_restarts)

    def meters(self) -> dict[str, RequestMeter]:
        """Its meters by path (see :data:`~remote_gym.server.handlers.meter.PATHS`)."""
        meters = {"grpc": self.meter}
        if self.lane is not None:
            meters[self.lane_name] = self.lane
        return meters

    @property
    def requests(self) -> list[int]:
        """Requests answered on every path, by kind."""
        if self.lane is None:
            return list(self.meter.requests)
        return [a + b for a, b in zip(self.meter.requests, self.lane.requests, strict=True)]

    @property
    def bytes_in(self) -> int:
        """Bytes of requests received, on every path."""
        return self.meter.bytes_in + (self.lane.bytes_in if self.lane is not None else 0)

    @property
    def bytes_out(self) -> int:
        """Bytes of replies sent, on every path."""
        return self.meter.bytes_out + (self.lane.bytes_out if self.lane is not None else 0)

    def step_histogram(self) -> list[int]:
        """Latencies of its steps on every path (of all its requests while it has made no step)."""
        meters = self.meters().values()
        if any(meter.requests[STEP] for meter in meters):
            return add_histograms(meter.histogram(STEP) for meter in meters)
        return add_histograms(meter.histogram() for meter in meters)

    def recent_steps(self, now: float, full: list[int] | None = None) -> list[int]:
        """The step histogram of its last one to two minutes (of its whole life while it is younger);
        ``full`` is :meth:`step_histogram` when the caller has it already.

        The window turns when asked (each snapshot, on the server's loop): at most every
        :data:`RECENT_S` seconds, the histogram of the turn before becomes the baseline.
        """
        if full is None:
            full = self.step_histogram()
        if now - self._marks[1][0] >= RECENT_S:
            self._marks = [self._marks[1], (now, full)]
        base = self._marks[0][1]
        return full if base is None else subtract_histograms(full, base)

    def path(self) -> str:
        """The path(s) its requests took, busiest first ("grpc", "lane", "network-lane", "lane+grpc");
        the one it was offered while it has sent nothing."""
        used = sorted(
            ((sum(meter.requests), name) for name, meter in self.meters().items() if sum(meter.requests)),
            reverse=True,
        )
        if not used:
            return self.lane_name if self.lane_offered else "grpc"
        return "+".join(name for _, name in used)


class Ledger:
    """The server's totals: sessions by env and end reason, requests of closed sessions, crashes, refusals."""

    def __init__(self, hosting: str) -> None:
        self.hosting = hosting
        self.started_at = time.monotonic()
        self.opened: Counter[str] = Counter()
        """Sessions opened, by env."""
        self.closed: Counter[tuple[str, str]] = Counter()
        """Sessions closed, by (env, end reason)."""
        self.requests: dict[str, list[int]] = {}
        """Requests of closed sessions, by env, then by kind."""
        self.bytes_in: Counter[str] = Counter()
        self.bytes_out: Counter[str] = Counter()
        self.env_steps: Counter[str] = Counter()
        """Sub-env steps of closed sessions (a vector step of N envs counts N), by env."""
        self.crashes: Counter[str] = Counter()
        """Worker processes that died under a session, by env."""
        self.env_restarts: Counter[str] = Counter()
        """Sub-envs of closed sessions recreated after they raised, by env."""
        self.step_times: dict[tuple[str, str], list[int]] = {}
        """Step latency histograms of closed sessions, by (env, path)."""
        self.step_seconds: dict[tuple[str, str], float] = defaultdict(float)
        """Seconds spent answering the steps of closed sessions, by (env, path)."""
        self.resumes: Counter[str] = Counter()
        """Sessions resumed on a new stream, by env."""
        self.refusals: Counter[str] = Counter()
        """Calls or sessions refused, by reason (UNAUTHENTICATED, SERVER_BUSY, INVALID_CALL, ...)."""

    def session_opened(self, session_id: str, env: str, peer: str) -> None:
        """A session's env(s) exist."""
        self.opened[env] += 1
        logger.info(
            "session %s opened (%s, %s, %s)",
            session_id,
            env,
            self.hosting,
            peer,
            extra=_fields("session_opened", session_id=session_id, env=env, peer=peer, hosting=self.hosting),
        )

    def session_closed(
        self, session_id: str, env: str, peer: str, reason: str, counts: SessionCounts | None, num_envs: int
    ) -> None:
        """A session ended for ``reason``; its counts join the totals of its env."""
        self.closed[env, reason] += 1
        if counts is not None:
            totals = self.requests.setdefault(env, [0] * _KINDS)
            for kind, n in enumerate(counts.requests):
                totals[kind] += n
            self.bytes_in[env] += counts.bytes_in
            self.bytes_out[env] += counts.bytes_out
            self.env_steps[env] += counts.requests[STEP] * max(num_envs, 1)
            self.env_restarts[env] += counts.env_restarts
            for path, meter in counts.meters().items():
                histogram = self.step_times.setdefault((env, path), [0] * BUCKETS)
                histogram[:] = add_histograms((histogram, meter.histogram(STEP)))
                self.step_seconds[env, path] += meter.seconds[STEP]
        logger.info(
            "session %s closed (%s, %s, %s)",
            session_id,
            env,
            peer,
            reason,
            extra=_fields("session_closed", session_id=session_id, env=env, peer=peer, reason=reason),
        )

    def session_resumed(self, session_id: str, env: str, peer: str, was: str) -> None:
        """A client resumed its session on a new stream."""
        self.resumes[env] += 1
        logger.info(
            "session %s resumed (%s, was %s)",
            session_id,
            peer,
            was,
            extra=_fields("session_resumed", session_id=session_id, env=env, peer=peer),
        )

    def worker_crashed(self, session_id: str, env: str, message: str) -> None:
        """The worker process of a session died (or was killed for exceeding max_call_s)."""
        self.crashes[env] += 1
        logger.warning(
            "session %s: %s",
            session_id,
            message,
            extra=_fields("worker_crashed", session_id=session_id, env=env, reason="WORKER_CRASHED"),
        )

    def refused(self, reason: str, peer: str, message: str, *, quiet: bool = False) -> None:
        """A session or call was refused (``reason`` is the error's machine-readable reason)."""
        self.refusals[reason] += 1
        if not quiet:
            logger.info(
                "refused a call from %s: %s",
                peer,
                message,
                extra=_fields("refused", peer=peer, reason=reason),
            )


STEP = REQUEST_KINDS.index("step")
RESET = REQUEST_KINDS.index("reset")


def _fields(event: str, **fields: str) -> dict[str, str]:
    return {"event": event, **fields}
