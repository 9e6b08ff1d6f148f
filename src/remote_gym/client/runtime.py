"""Where a client's asyncio/gRPC work runs: on a private loop driven by the calling thread, or on a loop thread.

Driving a private event loop in the caller's own thread (``run_until_complete`` per call) costs no
thread hand-over: on a 2-core VM each cross-thread wake-up costs 35-40 µs, two per step. That is the
default; such a loop also polls briefly for a quick reply instead of sleeping
(``ClientConfig.spin_us``). A thread whose own event loop is already running (Jupyter, async
trainers) cannot do that; its clients use one shared loop on a daemon thread instead.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import math
import threading
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from remote_gym.transport.spin import SpinningSelector, new_event_loop

T = TypeVar("T")


class Driver(Protocol):
    """Runs coroutines of one event loop to completion for a blocking caller."""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro``; raise ``TimeoutError`` (and cancel it) after ``timeout`` seconds."""
        ...

    def acquire(self) -> None:
        """Count one more connection using this driver."""
        ...

    def release(self) -> None:
        """One connection is done with this driver."""
        ...


class InlineDriver:
    """A private loop run by whichever thread calls, one call at a time.

    Each RemoteEnvironment has its own (a RemoteVectorEnv shares one among its hosts, so that it can
    wait on all of them at once): envs used from different threads never wait for each other.
    """

    def __init__(self, spin_us: float = 0.0) -> None:
        self.loop, self.selector = _take_loop()
        if self.selector is not None:
            self.selector.configure(spin_us)
        self._lock = threading.Lock()
        self._users = 0
        self._released = False
        self._task: asyncio.Task[Any] | None = None
        self._deadline = math.inf
        self._expired = False
        self._watchdog: asyncio.TimerHandle | None = None

    def acquire(self) -> None:
        """Count one more connection using this driver."""
        with self._lock:
            self._users += 1

    def release(self) -> None:
        """One connection is done; the last one hands the loop back for the next client."""
        with self._lock:
            self._users -= 1
            if self._users <= 0 and not self._released:
                self._released = True
                if self._watchdog is not None:
                    self._watchdog.cancel()
                _give_back(self.loop, self.selector)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the private loop in this thread."""
        with self._lock:
            loop = self.loop
            task = loop.create_task(coro)
            self._task, self._expired = task, False
            if timeout is not None:
                self._deadline = deadline = loop.time() + timeout
                # One watchdog timer serves every call: re-armed only when this deadline is earlier
                # than the time it is set for (a new timer per call costs more than the call's wait).
                if self._watchdog is None or self._watchdog.when() > deadline:
                    if self._watchdog is not None:
                        self._watchdog.cancel()
                    self._watchdog = loop.call_at(deadline, self._watch)
            try:
                return self._complete(task)
            except asyncio.CancelledError:
                if self._expired:
                    raise TimeoutError(f"no result within {timeout} s") from None
                raise
            finally:
                self._task = None
                self._deadline = math.inf

    def _complete(self, task: asyncio.Task[T]) -> T:
        """``loop.run_until_complete(task)``, in fewer loop iterations where the loop allows it.

        ``run_until_complete`` sets the loop up and tears it down around every call, and spends one
        more iteration on stopping: ~5 µs of a ~7 µs no-op call. Stepping the loop until the task is
        done does the same work without that. It relies on ``BaseEventLoop._run_once``; a loop
        without it (another implementation, a future Python) takes the standard path.
        """
        run_once = getattr(self.loop, _LOOP_STEP, None)
        if run_once is None or asyncio.events._get_running_loop() is not None:
            return self.loop.run_until_complete(task)
        asyncio.events._set_running_loop(self.loop)
        try:
            while not task.done():
                run_once()
        finally:
            asyncio.events._set_running_loop(None)
        return task.result()

    def _watch(self) -> None:
        """The watchdog fired: cancel the running call if its deadline passed, else wait for its deadline."""
        self._watchdog = None
        task = self._task
        if task is None or self._deadline == math.inf:
            return
        if self.loop.time() >= self._deadline:
            self._expired = True
            task.cancel()
        else:
            self._watchdog = self.loop.call_at(self._deadline, self._watch)


class ThreadDriver:
    """A shared loop on a daemon thread, for callers whose own thread already runs an event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="remote-gym-client", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop thread and wait for it here."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("remote-gym clients cannot be used from their own event-loop thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no result within {timeout} s") from None

    def acquire(self) -> None:
        """Shared by every client of the process: nothing to count."""

    def release(self) -> None:
        """Shared by every client of the process: stays up until exit."""

    def stop(self) -> None:
        """Stop the loop thread (at interpreter exit)."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)


_LOOP_STEP = "_run_once"
"""The method of asyncio's own loops that runs one iteration (see ``InlineDriver._complete``)."""

_lock = threading.Lock()
_thread_driver: ThreadDriver | None = None
_Pooled = tuple[asyncio.AbstractEventLoop, SpinningSelector | None]
_idle_loops: list[_Pooled] = []
"""Loops (and their selectors) of released InlineDrivers, reused by new ones instead of being closed."""


def _take_loop() -> _Pooled:
    with _lock:
        if _idle_loops:
            return _idle_loops.pop()
    return new_event_loop(0.0)


def _give_back(loop: asyncio.AbstractEventLoop, selector: SpinningSelector | None) -> None:
    """Finish what is left on a released loop and keep it for the next client.

    A closed loop is never handed out: gRPC's poller thread may still post a late completion of a
    finished call to it, which a closed loop refuses with an error printed on stderr.
    """
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    with contextlib.suppress(Exception):
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
        loop.run_until_complete(asyncio.sleep(0))
    with _lock:
        _idle_loops.append((loop, selector))


def new_driver(spin_us: float = 0.0) -> Driver:
    """A driver for a new client: its own private loop, or the shared loop thread when the calling
    thread already runs an event loop (Jupyter, async code), where ``run_until_complete`` cannot.

    A private loop polls up to ``spin_us`` for a reply before it sleeps (see
    :mod:`remote_gym.transport.spin`); the shared loop thread never polls.
    """
    global _thread_driver
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return InlineDriver(spin_us)
    with _lock:
        if _thread_driver is None:
            _thread_driver = ThreadDriver()
        return _thread_driver


@atexit.register
def _shutdown() -> None:
    if _thread_driver is not None:
        _thread_driver.stop()
