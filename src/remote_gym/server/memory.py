"""Resident memory of a process and its descendants, read from ``/proc``."""

from __future__ import annotations

import contextlib


def resident_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` and its descendants, from ``/proc`` (Linux; 0 elsewhere)."""
    total = 0
    for each in with_descendants(pid):
        with contextlib.suppress(OSError), open(f"/proc/{each}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total


def with_descendants(pid: int) -> list[int]:
    """``pid`` and the processes below it (at most 1024), from ``/proc`` (Linux; ``[pid]`` elsewhere)."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1024:
        each = todo.pop()
        found.append(each)
        with contextlib.suppress(OSError), open(f"/proc/{each}/task/{each}/children") as children:
            todo.extend(int(child) for child in children.read().split())
    return found
