"""Resume a session whose connection dropped, and send the request that was in flight again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import grpc

from remote_gym._constants import RESUME_ATTEMPT_TIMEOUT_S, RESUME_BACKOFF_S, RESUME_PROBE_S
from remote_gym.client.stream import SessionGone, SessionStream
from remote_gym.errors import ConnectionLostError

logger = logging.getLogger(__name__)

_MAX_LOSSES_PER_REQUEST = 100
"""Connections one request may lose right after resuming before the client gives up on the session."""


async def resume_and_resend(
    stream: SessionStream,
    payload: bytes,
    lost: ConnectionLostError,
    *,
    session_id: str,
    resume_token: str,
    budget: float,
    call_timeout: float | None,
    remake: Callable[[], Awaitable[bytes]] | None = None,
) -> bytes:
    """Resume session ``session_id`` on a new connection of ``stream`` and send ``payload`` again.

    The only place that retries. The server answers a request it already applied from its record,
    so nothing runs twice, whatever the moment the connection dropped. Attempts take at most
    ``RESUME_ATTEMPT_TIMEOUT_S`` each, on a new connection each time, with a doubling pause between
    them, for up to ``budget`` seconds; a connection that drops again after a successful resume
    starts a new budget.

    Args:
        stream: The session's stream; each attempt reattaches it on a new channel.
        payload: The serialized request that was in flight when ``lost`` happened.
        lost: Why the connection dropped (chained to the error if resuming fails).
        session_id: The session to resume.
        resume_token: The secret the server gave for resuming it.
        budget: Seconds to keep trying (``ClientConfig.resume_s``).
        call_timeout: Seconds the re-sent request may take; None waits forever.
        remake: When the server no longer has the session and nothing of it was observed (no reset
            answered yet): makes it again and answers ``payload`` from the new session (see remake.py).

    Raises:
        ConnectionLostError: The server no longer has the session (it ended, its resume window
            passed, or the server restarted), or no resume succeeded within ``budget``.
        DeadlineExceededError: The re-sent request got no reply within ``call_timeout``.
    """
    target = stream.target
    logger.info("connection to %s lost (%s); resuming session %s", target, lost, session_id)
    deadline = time.monotonic() + budget
    delay, last, losses = RESUME_BACKOFF_S[0], str(lost), 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectionLostError(
                f"the connection to {target} dropped and the session could not be resumed "
                f"within {budget} s (last error: {last})"
            ) from lost
        try:
            await asyncio.wait_for(
                stream.reattach(session_id, resume_token), min(RESUME_ATTEMPT_TIMEOUT_S, remaining)
            )
        except SessionGone as gone:
            if remake is not None:
                logger.info("session %s was not kept (%s); making it again", session_id, gone.error)
                return await remake()
            if isinstance(gone.error, ConnectionLostError):  # SessionEvictedError says why itself
                raise gone.error from lost
            raise ConnectionLostError(f"the session with {target} cannot go on: {gone.error}") from gone.error
        except (asyncio.TimeoutError, ConnectionLostError, OSError, grpc.RpcError) as exc:
            last = _describe(exc)
            logger.debug("resuming session %s on %s failed: %s", session_id, target, last)
            await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, RESUME_BACKOFF_S[1])
            continue
        logger.info("session %s resumed on %s", session_id, target)
        try:
            return await _probed_roundtrip(stream, payload, call_timeout)
        except ConnectionLostError as again:  # dropped again right after the resume: still resumable
            logger.debug("session %s lost its connection again: %s", session_id, again)
            losses += 1
            if losses >= _MAX_LOSSES_PER_REQUEST:
                raise
            last = str(again)
            deadline = time.monotonic() + budget
            delay = RESUME_BACKOFF_S[0]


async def _probed_roundtrip(stream: SessionStream, payload: bytes, call_timeout: float | None) -> bytes:
    """:meth:`SessionStream.bounded_roundtrip`, probing the connection every ``RESUME_PROBE_S`` while the reply takes long.

    A connection cut right after a resume is then noticed within that, instead of at the next
    keepalive ping (see :meth:`SessionStream.probe`).
    """
    task = asyncio.ensure_future(stream.bounded_roundtrip(payload, call_timeout))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=RESUME_PROBE_S)
            if done:
                return task.result()
            await stream.probe(RESUME_PROBE_S)
    finally:
        task.cancel()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__
