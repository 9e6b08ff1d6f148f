"""Run the command line in-process and capture what it prints."""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

from remote_gym.cli.main import main

SERVING = re.compile(r"serving on 127\.0\.0\.1:(\d+)")


def make_console() -> tuple[Console, io.StringIO]:
    """A wide, colourless console writing into a buffer."""
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None, force_terminal=False, soft_wrap=False), buffer


def run_cli(*argv: str) -> tuple[int, str]:
    """``remote-gym ARGV...`` in this process: the exit code and everything printed to the console."""
    console, buffer = make_console()
    code = main(list(argv), console=console)
    return code, buffer.getvalue()


@contextmanager
def _sigterm_guard() -> Iterator[None]:
    # If a SIGTERM ever arrives after the command restored its handlers, it must not kill pytest.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_in_process(
    command: Callable[[Console], int],
    use: Callable[[str], None],
    *,
    stop_signal: signal.Signals = signal.SIGTERM,
    timeout: float = 30.0,
) -> tuple[int, str, list[BaseException]]:
    """Run a blocking serve ``command`` on this (main) thread; from a helper thread, wait for its
    "serving on" line, call ``use(address)``, then send ``stop_signal`` to this process.

    Returns:
        The command's exit code, its output, and whatever ``use`` raised.
    """
    console, buffer = make_console()
    errors: list[BaseException] = []
    finished = threading.Event()

    def helper() -> None:
        deadline = time.monotonic() + timeout
        match = None
        while match is None and not finished.is_set() and time.monotonic() < deadline:
            match = SERVING.search(buffer.getvalue())
            time.sleep(0.02)
        if match is None:
            return  # the command failed (or hangs: the test's timeout reports it)
        try:
            use(f"127.0.0.1:{match.group(1)}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            if not finished.is_set():
                os.kill(os.getpid(), stop_signal)

    thread = threading.Thread(target=helper, daemon=True)
    with _sigterm_guard():
        thread.start()
        try:
            code = command(console)
        finally:
            finished.set()
            thread.join(timeout)
    return code, buffer.getvalue(), errors
