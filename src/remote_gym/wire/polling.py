"""When to poll for a message instead of sleeping until it comes, for every process: one policy.

Waking a sleeping thread or process costs ~20-40 µs on a small VM; a side that expects its peer's
message within microseconds saves that by polling (non-blocking reads and ``sched_yield``) for a
short budget first. Polling keeps a CPU busy, so it is bounded three ways, the same everywhere:

- a budget per wait (``spin_us`` in the client's and the server's configuration);
- a running average of how long such waits lately took (:class:`PollGate`): when the peer usually
  answers later than the budget (a slow env, a trainer thinking between steps), nobody polls;
- the usable CPUs (:func:`spin_budget_s`): with one, the poller only delays the thread it waits for.

The server adds one rule of its own (:class:`AloneRule`): it polls only for a session that has the
server to itself, since polling blocks its event loop.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

AVERAGE_WEIGHT = 0.125
"""Weight of the newest sample in the running averages that decide whether polling pays."""

ALONE_AFTER_S = 0.01
"""A session has the server to itself when no other session sent a request for this long."""

yield_cpu: Callable[[], None] = getattr(os, "sched_yield", lambda: None)
"""Called on every turn of a polling loop: a thread woken onto the poller's CPU runs at once."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def spin_budget_s(spin_us: float) -> float:
    """A polling budget in seconds: 0 when ``spin_us`` is 0 or this process has one usable CPU."""
    return spin_us * 1e-6 if spin_us > 0 and usable_cpus() >= 2 else 0.0


class PollGate:
    """Whether a wait is worth polling for: while such waits lately ended within the budget."""

    __slots__ = ("average_s", "budget_s")

    def __init__(self, budget_s: float = 0.0) -> None:
        self.budget_s = budget_s
        """Seconds one wait may poll (0: never)."""
        self.average_s = 0.0
        """Running average of how long the waits lasted, polled or not."""

    def worth_it(self) -> bool:
        """True when there is a budget and the waits lately ended within it."""
        return self.average_s < self.budget_s

    def note(self, waited_s: float) -> None:
        """Take the duration of a wait into the average."""
        self.average_s += AVERAGE_WEIGHT * (waited_s - self.average_s)

    def reset(self, budget_s: float) -> None:
        """A new budget, and a fresh average."""
        self.budget_s = budget_s
        self.average_s = 0.0


def spin(probe: Callable[[], T | None], budget_s: float) -> T | None:
    """Call ``probe`` (which must not block) until it returns something or ``budget_s`` is spent.

    Returns:
        The first result that is not None, or None when the budget ran out.
    """
    deadline = time.perf_counter() + budget_s
    while True:
        result = probe()
        if result is not None:
            return result
        if time.perf_counter() >= deadline:
            return None
        yield_cpu()


class AloneRule:
    """The server's rule: poll only for a session whose requests no other session's came between lately."""

    def __init__(self) -> None:
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
