"""A session's rules, applied to each request in one place whatever path it came by.

Every request a session's env answers passes through :class:`SessionAnswer`, whether it came
through the gRPC process (a worker's socket, or in-process hosting) or straight from the client on
the same-host lane: it is applied exactly once (:class:`~.sequencer.Sequencer`), within the
server's ``max_call_s`` (:class:`~.deadline.CallDeadline`, worker processes only), and its reply is
held to the server's message limit (:func:`~.sequencer.bounded_reply`). This is also the one place
where a step passes on every path, for whatever must see each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Protocol

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.deadline import CallDeadline
from remote_gym.server.handlers.sequencer import Sequencer, bounded_reply


class Handles(Protocol):
    """Anything that answers a parsed request (an env or vector handler)."""

    def handle(self, request: pb.Request) -> pb.Response:
        """Answer one request; never raises."""
        ...

    @property
    def deferred(self) -> bool:
        """Whether work waits for :meth:`run_deferred`."""
        ...

    def run_deferred(self) -> None:
        """Do the work the handler left until its last reply was out; never raises."""
        ...


@dataclass(frozen=True)
class SessionRules:
    """The server's limits for one session, carried to its worker in the start message."""

    max_reply_bytes: int | None = None
    """A longer reply is replaced by a ServerBusyError (``ServerConfig.max_message_bytes``)."""
    max_call_s: float | None = None
    """A request taking longer ends the worker (``ServerConfig.max_call_s``; worker processes only)."""
    deadline_thread: bool = False
    """Enforce ``max_call_s`` with a watchdog thread instead of ``SIGALRM``: the mechanism of platforms
    without ``setitimer`` (Windows), used by every spawned worker so that Linux runs it too."""

    def to_json(self) -> dict[str, Any]:
        """Plain-data form, carried in the worker's start message."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SessionRules:
        """Inverse of :meth:`to_json` (no limits for None)."""
        return cls(**data) if data else cls()


class SessionAnswer:
    """Answers the session's serialized requests under ``rules`` (call it), and does the work its handler
    deferred until a reply was out (:meth:`after_reply`), under the same deadline.

    Args:
        handler: The session's handler.
        rules: The limits to apply.
        in_worker: Whether this runs in a worker process of its own (only there may a deadline end
            the process). Make it after any fork the handler made: a deadline may start a thread.
    """

    def __init__(self, handler: Handles, rules: SessionRules, *, in_worker: bool = True) -> None:
        self._handler = handler
        answer: Callable[[bytes], bytes] = Sequencer(handler.handle).answer
        later: Callable[[], None] = handler.run_deferred
        if rules.max_call_s and in_worker:
            deadline = CallDeadline(rules.max_call_s, use_alarm=False if rules.deadline_thread else None)
            deadline.start()
            answer, later = deadline.wrap(answer), deadline.wrap(later)
        limit = rules.max_reply_bytes
        self._answer = answer if limit is None else partial(_bounded, answer, limit)
        self._later = later

    def __call__(self, data: bytes) -> bytes:
        """The serialized reply to one serialized request; never raises."""
        return self._answer(data)

    def after_reply(self) -> None:
        """Once the replies are written, before the next request is read: the handler's deferred work
        (a vector session's quick sub-envs beyond what the reply needed, see
        :mod:`~remote_gym.server.handlers.async_steps`), while the client works on its reply."""
        if self._handler.deferred:
            self._later()


def _bounded(answer: Callable[[bytes], bytes], limit: int, data: bytes) -> bytes:
    return bounded_reply(answer(data), limit)
