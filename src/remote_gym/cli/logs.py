"""Where a command's log records go while it runs, put back as it was when it returns."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def logging_to(handler: logging.Handler, level: int | None = None) -> Iterator[None]:
    """Meanwhile, the root logger writes to ``handler`` only (and ``remote_gym``'s loggers at ``level``).

    Afterwards the handlers and levels are those from before: a command run from Python (a test, a
    notebook) leaves nothing behind that would print that process's later records to a console or
    stream it no longer owns.
    """
    root = logging.getLogger()
    ours = logging.getLogger("remote_gym")
    handlers, root_level, our_level = root.handlers[:], root.level, ours.level
    root.handlers[:] = [handler]
    if level is not None:
        root.setLevel(level)
        ours.setLevel(level)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
        ours.setLevel(our_level)
