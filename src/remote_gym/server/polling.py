"""When the server polls instead of sleeping (ServerConfig.spin_us): for a worker's reply,
and (its event loop, see :mod:`remote_gym.transport.spin`) for the next request.

Polling saves a wake-up per message (~20-40 µs on a small VM) but keeps a CPU busy and blocks the
server's event loop while it lasts. It pays only for a session that has the server to itself, and
only when the server may use more than one CPU. Workers never poll: measured with the client on
the same two CPUs, a third polling process only took CPU time from the two that have work.
"""

from __future__ import annotations

import logging
import math
import time

from remote_gym.transport.spin import usable_cpus

logger = logging.getLogger(__name__)

ALONE_AFTER_S = 0.01
"""A session has the server to itself when no other session sent a request for this long."""


class PollPolicy:
    """The server's polling budget, and which requests may use it."""

    def __init__(self, spin_us: float) -> None:
        self.poll_us = spin_us if usable_cpus() >= 2 else 0.0
        """Microseconds either side may poll; 0 when the configuration or the machine rules it out."""
        if spin_us and not self.poll_us:
            logger.info("one CPU usable: the server and its workers do not poll for each other")
        self._last_session: object | None = None
        self._last_request_at = -math.inf
        self._other_request_at = -math.inf
        """When a request last came from another session than the latest one."""

    def alone(self, session: object) -> bool:
        """Note a request of ``session``; True when no other session sent one recently."""
        now = time.monotonic()
        if session is not self._last_session:
            self._other_request_at = self._last_request_at
            self._last_session = session
        self._last_request_at = now
        return now - self._other_request_at > ALONE_AFTER_S
