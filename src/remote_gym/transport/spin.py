"""Event loops that poll for a moment before they sleep, for the client and the server.

gRPC's asyncio layer hands every completed read and write from its poller thread to the event loop
through a socket: a loop asleep in ``epoll_wait`` must then be woken, which costs ~20-40 µs on a
small VM, twice per round trip. A loop that polls while the next event is due within a short budget
notices it without that wake-up. When to poll is decided by :mod:`remote_gym.wire.polling`, the one
polling policy of every process; this module only puts it into a selector.
"""

from __future__ import annotations

import asyncio
import selectors
import sys
import time
from typing import Any

from remote_gym.wire.polling import PollGate, spin, spin_budget_s


class SpinningSelector(selectors.DefaultSelector):
    """The platform's default selector, polling up to ``budget_s`` before a blocking wait.

    It polls only while ``enabled`` (its owner may switch it off, e.g. when several sessions share
    a server) and while waits have lately ended within the budget.
    """

    def __init__(self, spin_us: float = 0.0) -> None:
        super().__init__()
        self.enabled = True
        self.gate = PollGate()
        """The budget, and the running average of how long a wait for an event lasted."""
        self.polled = 0
        """Waits that ended while polling (each one a wake-up saved), since :meth:`configure`."""
        self.configure(spin_us)

    @property
    def budget_s(self) -> float:
        """Seconds one wait may poll (0: never)."""
        return self.gate.budget_s

    def configure(self, spin_us: float) -> None:
        """Set the budget (µs; 0 never polls, nor does a process with one usable CPU)."""
        self.gate.reset(spin_budget_s(spin_us))
        self.polled = 0

    def _poll_once(self) -> list[tuple[selectors.SelectorKey, int]] | None:
        return super().select(0) or None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """``selectors`` API: wait for events, polling first when that is likely to pay."""
        gate = self.gate
        if not gate.budget_s or not self.enabled or (timeout is not None and timeout <= 0):
            return super().select(timeout)
        start = time.perf_counter()
        if gate.worth_it():
            budget = gate.budget_s if timeout is None else min(gate.budget_s, timeout)
            ready = spin(self._poll_once, budget)
            if ready:
                self.polled += 1
                gate.note(time.perf_counter() - start)
                return ready
            if timeout is not None:
                timeout = max(0.0, timeout - (time.perf_counter() - start))
        ready = super().select(timeout)
        # A wait that ended by its timeout counts too: a loop woken only by its timers is not busy.
        gate.note(time.perf_counter() - start)
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
