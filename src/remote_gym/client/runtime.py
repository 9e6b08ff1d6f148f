"""A private asyncio event loop on a daemon thread, shared by every client in the process."""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def get_loop() -> asyncio.AbstractEventLoop:
    """The client event loop, started on first use (and again after a fork)."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="remote-gym-client", daemon=True)
            _thread.start()
        return _loop


def in_loop_thread() -> bool:
    """True when called from the client loop's own thread (blocking there would deadlock)."""
    return _thread is not None and threading.current_thread() is _thread


def submit(coro: Coroutine[Any, Any, T]) -> Any:
    """Schedule ``coro`` on the client loop; returns a ``concurrent.futures.Future``."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


@atexit.register
def _shutdown() -> None:
    loop = _loop
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(loop.stop)
