"""What the client of a session the server ends is told: the typed error its capabilities allow."""

from __future__ import annotations

from remote_gym.capabilities import CAP_DRAINING
from remote_gym.errors import ServerDrainingError, ServerError, ServerShutdownError, SessionExpiredError
from remote_gym.server.sessions import EndReason, SessionRecord


def ending_error(record: SessionRecord, idle_timeout_s: float | None) -> ServerError:
    """The error that tells ``record``'s client why the server ended its session (``record.ending``).

    A client without ``CAP_DRAINING`` (release 1.0.0) learns of a drain as a shutdown, with the same text.
    """
    if record.ending is EndReason.DRAINING:
        text = "the server is draining (an upgrade or a restart): open the session on another server"
        if CAP_DRAINING in record.capabilities:
            return ServerDrainingError(text)
        return ServerShutdownError(text)
    if record.ending is EndReason.SHUTDOWN:
        return ServerShutdownError("the server is shutting down")
    return SessionExpiredError(f"the session was idle for over {idle_timeout_s} s")


def draining_refusal(capabilities: frozenset[str]) -> ServerError:
    """The error that refuses a new session while the server drains (ServerShutdownError without ``CAP_DRAINING``)."""
    text = "the server is draining (an upgrade or a restart) and takes no new session: use another server"
    return ServerDrainingError(text) if CAP_DRAINING in capabilities else ServerShutdownError(text)
