"""When the server and a worker poll for each other instead of sleeping (ServerConfig.worker_spin_us).

Polling saves a process wake-up per message (~40 µs each way on a small VM) but keeps a CPU busy
and blocks the server's event loop while it lasts. It pays only for a session that has the server to
itself, and only when the worker can run on another CPU than the polling server.
"""

from __future__ import annotations

import logging
import math
import os
import time

logger = logging.getLogger(__name__)

ALONE_AFTER_S = 0.01
"""A session has the server to itself when no other session sent a request for this long."""


yield_cpu = getattr(os, "sched_yield", lambda: None)
"""Called on every turn of a polling loop: a thread woken onto the poller's CPU runs at once."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
