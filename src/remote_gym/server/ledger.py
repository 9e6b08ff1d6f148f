"""What the server counts: each session's requests (plain integers on the hot path) and the server's events.

Requests that pass through the gRPC process are counted there, as they pass. What it cannot see
(requests a same-host client sends its worker over the lane, sub-envs recreated inside a worker) the
worker reports when asked (:class:`~remote_gym.wire.control.WorkerStatus`), and
:meth:`SessionCounts.add_status` takes it in. Counts of closed sessions are folded into per-env
totals, so nothing is lost when a session ends.

Events (a session opened, closed, resumed, a worker crash, a refused call) are counted here and logged
here, once each, with ``extra`` fields named like the metrics' labels (``env``, ``reason``), which
``serve --log-format json`` writes out as they are.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from remote_gym.codec.requests import REQUEST_KINDS
from remote_gym.wire.control import WorkerStatus

logger = logging.getLogger("remote_gym.server")

LATENCY_SAMPLES = 512
"""Latest request latencies kept per session (for its p50/p99)."""

_KINDS = len(REQUEST_KINDS)


def _ignore(seconds: float) -> None:
    """An observer that keeps nothing."""


class SessionCounts:
    """One session's requests by kind, bytes and latest latencies; updated by the servicer on each request."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "env_restarts",
        "lane_seen",
        "latencies",
        "n",
        "observe",
        "opened_at",
        "requests",
    )

    def __init__(self, observe: Sequence[Callable[[float], None]] = ()) -> None:
        self.requests = [0] * _KINDS
        """Requests answered, by the field number of their kind (see REQUEST_KINDS)."""
        self.bytes_in = 0
        self.bytes_out = 0
        self.latencies = [0.0] * LATENCY_SAMPLES
        """A ring of the latest latencies (seconds); ``n`` were recorded in all."""
        self.n = 0
        self.observe = list(observe) or [_ignore] * _KINDS
        """Per kind: also record a latency elsewhere (the server's histogram)."""
        self.opened_at = time.monotonic()
        self.lane_seen = [0] * _KINDS
        """Requests its worker reported answering on the same-host lane, by kind (already in ``requests``)."""
        self.env_restarts = 0
        """Sub-envs recreated after they raised, as its worker last reported."""

    def record(self, kind: int, size_in: int, size_out: int, seconds: float) -> None:
        """Count one answered request of ``kind`` (see :func:`~remote_gym.codec.requests.request_kind`)."""
        self.requests[kind] += 1
        self.bytes_in += size_in
        self.bytes_out += size_out
        self.latencies[self.n % LATENCY_SAMPLES] = seconds
        self.n += 1
        self.observe[kind](seconds)

    def add_status(self, status: WorkerStatus) -> None:
        """Take in its worker's report: the requests it answered on its lane since its last report
        (the server never sees those), and its sub-env restarts."""
        for kind, n in enumerate((status.lane_requests or [])[:_KINDS]):
            self.requests[kind] += n - self.lane_seen[kind]
            self.lane_seen[kind] = n
        self.env_restarts = max(self.env_restarts, status.env_restarts)

    def recent_latencies(self) -> list[float]:
        """The latest latencies kept, oldest first not guaranteed."""
        return self.latencies[: min(self.n, LATENCY_SAMPLES)]


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
