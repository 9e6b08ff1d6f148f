"""Event loops that poll for a moment before they sleep, for the client and the server.

gRPC's asyncio layer hands every completed read and write from its poller thread to the event loop
through a socket: a loop asleep in ``epoll_wait`` must then be woken, which costs ~20-40 µs on a
small VM, twice per round trip. A loop that polls (non-blocking ``select`` and ``sched_yield``)
while the next event is due within a short budget notices it without that wake-up.

Polling keeps a CPU busy, so it is bounded three ways: the budget per wait, a running average that
stops it when events usually come later than the budget (a slow env, a client that thinks between
steps), and a usable-CPU check (with one CPU the poller only delays the thread it waits for).
"""

from __future__ import annotations

import asyncio
import os
import selectors
import sys
import time
from typing import Any

from remote_gym._constants import POLL_AVERAGE_WEIGHT

yield_cpu = getattr(os, "sched_yield", lambda: None)
"""Called on every turn of a polling loop: a thread woken onto the poller's CPU runs at once."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class SpinningSelector(selectors.DefaultSelector):
    """The platform's default selector, polling up to ``budget_s`` before a blocking wait.

    It polls only while ``enabled`` (its owner may switch it off, e.g. when several sessions share
    a server) and while waits have lately ended within the budget.
    """

    def __init__(self, spin_us: float = 0.0) -> None:
        super().__init__()
        self.budget_s = 0.0
        self.enabled = True
        self.wait_s = 0.0
        """Running average of how long a wait for an event lasted, polled or not."""
        self.polled = 0
        """Waits that ended while polling (each one a wake-up saved), since :meth:`configure`."""
        self.configure(spin_us)

    def configure(self, spin_us: float) -> None:
        """Set the budget (µs; 0 never polls, nor does a process with one usable CPU)."""
        self.budget_s = spin_us * 1e-6 if spin_us > 0 and usable_cpus() >= 2 else 0.0
        self.wait_s = 0.0
        self.polled = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """``selectors`` API: wait for events, polling first when that is likely to pay."""
        budget = self.budget_s
        if not budget or not self.enabled or (timeout is not None and timeout <= 0):
            return super().select(timeout)
        start = time.perf_counter()
        if self.wait_s < budget:
            until = start + (budget if timeout is None else min(budget, timeout))
            while True:
                ready = super().select(0)
                now = time.perf_counter()
                if ready:
                    self.polled += 1
                    self.wait_s += POLL_AVERAGE_WEIGHT * (now - start - self.wait_s)
                    return ready
                if now >= until:
                    break
                yield_cpu()
            if timeout is not None:
                timeout = max(0.0, timeout - (now - start))
        ready = super().select(timeout)
        # A wait that ended by its timeout counts too: a loop woken only by its timers is not busy.
        self.wait_s += POLL_AVERAGE_WEIGHT * (time.perf_counter() - start - self.wait_s)
        return ready


def new_event_loop(spin_us: float) -> tuple[asyncio.AbstractEventLoop, SpinningSelector | None]:
    """A new event loop whose waits poll up to ``spin_us`` first, and its selector.

    On Windows (whose default loop is not selector-based) this is a plain new event loop, and None.
    """
    if sys.platform == "win32":
        return asyncio.new_event_loop(), None
    selector = SpinningSelector(spin_us)
    loop: Any = asyncio.SelectorEventLoop(selector)
    return loop, selector
