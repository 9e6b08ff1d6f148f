"""The server's sessions: each one's record and the state machine of its life (open, resume, detach, expire, close).

::

                      stream breaks                    window passes / shutdown / evicted
    open ──▶ ATTACHED ─────────────▶ DETACHED ─────────────────────────────────▶ CLOSED
                ▲   │  resume (token)   │                                          ▲
                │   └───────────────────┘◀─ resume                                  │
                │   server ends it (idle expiry, shutdown, drain): ENDING ──▶ next request ┘
                └── client's CloseRequest, its env could not be created, or its stream broke
                    before any reset was answered (nothing to resume: a scanner holds nothing): CLOSED

A detached session is *evicted* (closed at once) when a new session needs its place at
``max_sessions`` (see ``capacity.py``); its client, if it comes back, learns why.

Only the gRPC process keeps this table; the env(s) of a session live in its host (a worker process
or in-process), which :meth:`SessionTable.close` stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from remote_gym.capabilities import CAP_SESSION_EVICTED
from remote_gym.errors import ServerShutdownError, SessionEvictedError, SessionExpiredError
from remote_gym.server.hosting.host import EnvHost
from remote_gym.server.ledger import RESET, Ledger, SessionCounts

logger = logging.getLogger(__name__)


class SessionState(enum.Enum):
    """Where a session is in its life."""

    # A stream serves it.
    ATTACHED = 1
    # Its stream broke; kept for the resume window, waiting for its client to resume it.
    DETACHED = 2
    # The server ends it (idle expiry, shutdown); its client learns why at its next request.
    ENDING = 3
    # Its env(s) are freed and it is out of the table.
    CLOSED = 4


class EndReason(enum.Enum):
    """Why a session ended (also a label of the server's logs)."""

    CLOSED_BY_CLIENT = "closed"
    CREATE_FAILED = "create_failed"
    STREAM_LOST = "stream_lost"
    RESUME_WINDOW_PASSED = "resume_window_passed"
    IDLE = "idle"
    SHUTDOWN = "shutdown"
    WORKER_CRASHED = "worker_crashed"
    NEVER_RESET = "stream_lost_before_reset"
    EVICTED = "evicted_for_capacity"
    DRAINING = "draining"


EVICTED_REMEMBERED = 4096
"""Evicted sessions the server remembers, to tell their clients why when they come back."""


@dataclass
class SessionRecord:
    """What the server keeps of one session."""

    session_id: str
    env_name: str
    peer: str
    host: EnvHost | None = None
    """Where the env(s) run: a worker process, or in this process."""
    state: SessionState = SessionState.ATTACHED
    token: str = ""
    """Secret a client must show to resume the session on a new stream."""
    owner: object | None = None
    """The stream serving the session now; None while detached."""
    ending: EndReason | None = None
    """Why the server ends it (state ENDING)."""
    closing: bool = False
    """True once the client sent CloseRequest: the end of its stream then ends the session."""
    busy: bool = False
    """True while a request is being answered."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serializes requests, also across an old and a new stream after a resume."""
    detach_timer: asyncio.TimerHandle | None = None
    """While detached: ends the session when the resume window passes."""
    counts: SessionCounts | None = None
    """Its requests, bytes and latencies (None when the server's monitoring is off)."""
    num_envs: int = 0
    """Sub-environments (0: a single env)."""
    render_mode: str | None = None
    """The render mode its env(s) render in on the server."""
    capabilities: frozenset[str] = frozenset()
    """What its client and this server both have (see remote_gym.capabilities)."""
    reset_seen: bool = False
    """True once a reset of it was answered through the server (lane resets: its worker reports them)."""
    detached_at: float = 0.0
    """When its stream last broke (time.monotonic()); the earliest detached yields first."""


class SessionTable:
    """Every open session, and the only code that moves one from state to state."""

    def __init__(self, resume_window_s: float, ledger: Ledger) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self.ledger = ledger
        """Counts and logs each session's opening, resumption and end."""
        self._window = resume_window_s
        self._background: set[asyncio.Future[Any]] = set()
        self.shutting_down = False
        self.draining = False
        """True once the server drains: it takes no new session, and its shutdown says so."""
        self._evicted: OrderedDict[str, str] = OrderedDict()
        """Session id -> resume token of the latest sessions evicted for capacity."""

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[SessionRecord]:
        return iter(list(self._sessions.values()))

    def reserve(self, record: SessionRecord) -> None:
        """Hold a place for a session being created (counts against max_sessions before any await)."""
        self._sessions[record.session_id] = record

    def release(self, record: SessionRecord) -> None:
        """Give back a reserved place whose session could not be created."""
        if self._sessions.get(record.session_id) is record:
            del self._sessions[record.session_id]

    def opened(self, record: SessionRecord, host: EnvHost) -> str:
        """The session's env(s) exist: keep its host, issue its resume token and return it."""
        record.host = host
        record.token = secrets.token_hex(16)
        return record.token

    def attach(self, record: SessionRecord, owner: object) -> None:
        """A stream now serves the session."""
        record.owner = owner
        if record.state is SessionState.DETACHED:
            record.state = SessionState.ATTACHED

    def resume(
        self, session_id: str, token: str, peer: str, capabilities: frozenset[str] = frozenset()
    ) -> SessionRecord:
        """The session a resuming client names, if its token matches; it stops waiting for a resume.

        Raises:
            ServerShutdownError: The server is shutting down.
            SessionExpiredError: No such session (ended, window passed, server restarted) or a wrong token.
            SessionEvictedError: It was evicted for capacity (clients with ``CAP_SESSION_EVICTED``; others
                get SessionExpiredError saying so).
        """
        if self.shutting_down:
            raise ServerShutdownError("the server is shutting down")
        evicted_token = self._evicted.get(session_id)
        if evicted_token is not None and hmac.compare_digest(evicted_token, token):
            cls = SessionEvictedError if CAP_SESSION_EVICTED in capabilities else SessionExpiredError
            raise cls(
                f"session {session_id} expired for capacity: its connection broke, and while it waited "
                "for a resume the server, at its max_sessions, ended it to make room for a new session"
            )
        record = self._sessions.get(session_id)
        if (
            record is None
            or record.host is None
            or record.state in (SessionState.ENDING, SessionState.CLOSED)
            or not hmac.compare_digest(record.token, token)
        ):
            raise SessionExpiredError(
                f"session {session_id} cannot be resumed: it ended, or its resume window "
                f"({self._window} s) passed, or the server restarted"
            )
        if record.detach_timer is not None:
            record.detach_timer.cancel()
            record.detach_timer = None
        record.state = SessionState.ATTACHED
        self.ledger.session_resumed(session_id, record.env_name, peer, record.peer)
        record.peer = peer
        return record

    async def stream_ended(self, record: SessionRecord, owner: object, reason: EndReason | None) -> None:
        """The stream ``owner`` stopped serving the session: close it for ``reason``, or keep it for a resume.

        ``reason`` None means the stream broke: the session is detached for the resume window,
        unless its client had sent CloseRequest or the server is ending it.
        """
        if record.owner is not owner:  # a resumed stream took the session over meanwhile
            return
        record.owner = None
        if record.closing:
            reason = EndReason.CLOSED_BY_CLIENT
        reason = reason or record.ending
        if reason is not None or not self._window:
            await asyncio.shield(self.close(record, reason or EndReason.STREAM_LOST))
            return
        self._detach(record)
        if not record.reset_seen:  # reset on its lane? Its worker says; if not, nothing is left to resume
            self._background_task(self._close_unless_reset(record))

    async def _close_unless_reset(self, record: SessionRecord) -> None:
        """Close a detached session of which no reset was answered (its client makes it again if it was cut)."""
        reset = await self._was_reset(record)
        if reset or record.owner is not None or record.state is not SessionState.DETACHED:
            return  # held; or resumed, evicted or ended meanwhile
        if record.detach_timer is not None:
            record.detach_timer.cancel()
            record.detach_timer = None
        await self.close(record, EndReason.NEVER_RESET)

    def _detach(self, record: SessionRecord) -> None:
        if record.reset_seen:
            logger.info(
                "session %s lost its stream; kept %.1f s for a resume", record.session_id, self._window
            )
        else:
            logger.debug("session %s lost its stream before a reset the server saw", record.session_id)
        if record.host is not None:  # a client still on its lane must notice: its next request resumes
            record.host.close_lane()
        record.state = SessionState.DETACHED
        record.detached_at = time.monotonic()
        record.detach_timer = asyncio.get_running_loop().call_later(self._window, self._window_passed, record)

    @staticmethod
    async def _was_reset(record: SessionRecord) -> bool:
        """Whether a reset of the session was answered (through the server, or on its lane, as its worker says).

        A worker that does not say in time is taken to have answered one: the session is then held.
        """
        if record.reset_seen or record.host is None:
            return record.reset_seen
        try:
            status = await asyncio.wait_for(record.host.status(), RESET_CHECK_TIMEOUT_S)
        except Exception:
            return True
        lane = status.lane_requests or []
        return len(lane) > RESET and lane[RESET] > 0

    def detached(self) -> list[SessionRecord]:
        """Sessions waiting for their client to resume them, earliest detached first."""
        waiting = [r for r in self if r.state is SessionState.DETACHED and r.owner is None]
        return sorted(waiting, key=lambda r: r.detached_at)

    def evict(self, record: SessionRecord) -> None:
        """End a detached session at once to make room for a new one; its client learns why if it comes back."""
        if record.detach_timer is not None:
            record.detach_timer.cancel()
            record.detach_timer = None
        self._evicted[record.session_id] = record.token
        while len(self._evicted) > EVICTED_REMEMBERED:
            self._evicted.popitem(last=False)
        record.state = SessionState.CLOSED
        self._sessions.pop(record.session_id, None)  # its place is free now; its worker stops meanwhile
        self._background_task(self.close(record, EndReason.EVICTED))

    def _window_passed(self, record: SessionRecord) -> None:
        record.detach_timer = None
        if record.owner is None and record.state is SessionState.DETACHED:
            self._background_task(self.close(record, EndReason.RESUME_WINDOW_PASSED))

    def end(self, record: SessionRecord, reason: EndReason) -> None:
        """The server ends the session: its next request learns why (its stream stays open until then)."""
        if record.state is SessionState.CLOSED:
            return
        record.ending = record.ending or reason
        record.state = SessionState.ENDING
        if record.host is not None:  # the client's next request comes through the stream, which says why
            record.host.close_lane()
        if record.owner is None or reason is EndReason.IDLE:  # nobody to tell, or idle: free the env now
            if record.detach_timer is not None:
                record.detach_timer.cancel()
                record.detach_timer = None
            self._background_task(self.close(record, reason, keep_ending=True))

    def begin_shutdown(self) -> None:
        """Refuse resumes; end every session (each learns why at its next request: shutdown, or the drain's end)."""
        self.shutting_down = True
        for record in self:
            self.end(record, EndReason.DRAINING if self.draining else EndReason.SHUTDOWN)

    async def close(self, record: SessionRecord, reason: EndReason, *, keep_ending: bool = False) -> None:
        """Free the session's env(s) and drop it from the table (idempotent).

        With ``keep_ending`` the record stays ENDING for a stream still attached to it, which tells
        its client why at the next request.
        """
        host, record.host = record.host, None
        # A busy host (a request cancelled mid-call) would answer late, if at all: no question then.
        await collect_status(record, host, ask=host is not None and not host.busy)
        # No await from here to the ledger's update: a scrape sees the session open, or in the totals.
        if self._sessions.get(record.session_id) is record:
            del self._sessions[record.session_id]
        if not keep_ending:
            record.state = SessionState.CLOSED
        if host is not None:
            self.ledger.session_closed(
                record.session_id, record.env_name, record.peer, reason.value, record.counts, record.num_envs
            )
            await host.stop()

    def background(self, coro: Any) -> None:
        """Run ``coro`` as a task the table keeps a reference to until it is done."""
        self._background_task(coro)

    def _background_task(self, coro: Any) -> asyncio.Future[Any]:
        task: asyncio.Future[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


STATUS_TIMEOUT_S = 0.5
"""Longest wait for a worker's status (a busy worker answers once its request is answered)."""

RESET_CHECK_TIMEOUT_S = 5.0
"""Longest wait for a worker to say whether its lane answered a reset, when the session's stream broke.
A worker that does not say in time (a long step in hand, a loaded machine) gets its session held."""


async def collect_status(record: SessionRecord, host: EnvHost | None, *, ask: bool = True) -> None:
    """Bring the session's counts up to date with what only its host knows.

    The gRPC process counts what passes through it. A lane's requests go to the worker directly, and
    sub-env restarts happen inside it: the worker reports both when asked. A worker that does not
    answer in time (or, ``ask=False``, is not asked) counts with its last report.
    """
    if host is None or record.counts is None:
        return
    if ask:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(host.status(), STATUS_TIMEOUT_S)
    record.counts.add_status(host.last_status)
