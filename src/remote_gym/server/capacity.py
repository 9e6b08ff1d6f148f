"""Room for a new session at ``max_sessions``: a session awaiting resumption yields its place.

A trainer killed while holding sessions leaves them detached for the resume window; restarted at once,
it must not be refused for that window. So, at ``max_sessions``, the session detached the longest is
ended (its client, if it comes back, gets :class:`~remote_gym.errors.SessionEvictedError`), rather than
the new one refused. Only when every session is attached (working, or being created) is a new one refused.
"""

from __future__ import annotations

import logging

from remote_gym.errors import ServerBusyError
from remote_gym.server.sessions import SessionState, SessionTable

logger = logging.getLogger(__name__)


def make_room(sessions: SessionTable, max_sessions: int, resume_window_s: float) -> None:
    """Free a place for one more session if ``sessions`` is full, by evicting the earliest detached one.

    Raises:
        ServerBusyError: Every open session is attached: the message counts them, and says how
            long detached ones would have been kept.
    """
    if not max_sessions or len(sessions) < max_sessions:
        return
    for record in sessions.detached()[: len(sessions) - max_sessions + 1]:
        logger.info(
            "session %s (detached, awaiting a resume) ends to make room for a new session (max_sessions %d)",
            record.session_id,
            max_sessions,
        )
        sessions.evict(record)
    if len(sessions) < max_sessions:
        return
    records = list(sessions)
    detached = sum(r.state is SessionState.DETACHED for r in records)
    creating = sum(r.host is None for r in records)
    attached = len(records) - detached
    raise ServerBusyError(
        f"the server already has {len(records)} sessions open (its max_sessions): {attached} attached "
        f"({creating} of them being created), {detached} detached; a session whose connection breaks "
        f"after its first reset is kept {resume_window_s:g} s for a resume, and yields its place to a "
        "new session meanwhile"
    )
