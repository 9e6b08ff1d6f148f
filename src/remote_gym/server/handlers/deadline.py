"""The server's ``max_call_s``, enforced by the worker itself on every path (gRPC and the lane alike).

A request that takes longer ends the worker process: the env is stuck (or too slow) and the session
cannot go on. The server then reports a :class:`~remote_gym.errors.WorkerCrashedError` that says the
call took too long (:func:`describe_exit`). Where the platform has ``setitimer`` the kernel delivers
the end (``SIGALRM`` with its default action: it ends the process even while native code holds the
GIL); elsewhere (Windows) a watchdog thread ends it with :data:`EXIT_CALL_TOO_LONG`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

EXIT_CALL_TOO_LONG = 124
"""Exit code of a worker that ended itself because a call exceeded ``max_call_s`` (without SIGALRM)."""

_TOO_LONG_CODES = {EXIT_CALL_TOO_LONG} | ({-int(signal.SIGALRM)} if hasattr(signal, "SIGALRM") else set())


def describe_exit(code: int | None) -> str | None:
    """How a worker ended, when it ended because a call exceeded ``max_call_s``; else None."""
    if code in _TOO_LONG_CODES:
        return "was stopped: a call took longer than the server's max_call_s"
    return None


class CallDeadline:
    """Ends this process when one request takes longer than ``max_call_s``.

    Args:
        max_call_s: Seconds one request may take.
        use_alarm: Use ``setitimer`` (default where the platform has it); False forces the watchdog
            thread, the mechanism of platforms without it.
    """

    def __init__(self, max_call_s: float, *, use_alarm: bool | None = None) -> None:
        self.max_call_s = max_call_s
        self.use_alarm = hasattr(signal, "setitimer") if use_alarm is None else use_alarm
        self._started: float | None = None
        """When the request in hand began (monotonic), for the watchdog thread."""
        self._watchdog: threading.Thread | None = None

    def start(self) -> None:
        """Arm the mechanism (in the process that answers requests, after any fork)."""
        if self.use_alarm:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the alarm's default action ends the process
        elif self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name="remote-gym-call-deadline", daemon=True
            )
            self._watchdog.start()

    def wrap(self, call: Callable[P, T]) -> Callable[P, T]:
        """``call`` with this deadline around every call of it."""
        limit = self.max_call_s
        if self.use_alarm:
            setitimer, timer = signal.setitimer, signal.ITIMER_REAL

            def alarmed(*args: P.args, **kwargs: P.kwargs) -> T:
                setitimer(timer, limit)
                try:
                    return call(*args, **kwargs)
                finally:
                    setitimer(timer, 0)

            return alarmed
        clock = time.monotonic

        def watched(*args: P.args, **kwargs: P.kwargs) -> T:
            self._started = clock()
            try:
                return call(*args, **kwargs)
            finally:
                self._started = None

        return watched

    def _watch(self) -> None:
        period = min(max(self.max_call_s / 8, 0.005), 0.25)
        while True:
            time.sleep(period)
            started = self._started
            if started is not None and time.monotonic() - started > self.max_call_s:
                os._exit(EXIT_CALL_TOO_LONG)
