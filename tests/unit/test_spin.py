"""Event loops that poll briefly before sleeping (remote_gym.transport.spin)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from remote_gym.transport.spin import SpinningSelector, new_event_loop
from remote_gym.wire import polling as spin

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="selector loops only")


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _selector(pair: tuple[socket.socket, socket.socket], spin_us: float) -> SpinningSelector:
    selector = SpinningSelector(spin_us)
    selector.register(pair[0], 1)  # EVENT_READ
    return selector


def _send_later(sock: socket.socket, delay_s: float) -> threading.Thread:
    def send() -> None:
        time.sleep(delay_s)
        sock.send(b"x")

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_an_event_within_the_budget_is_found_by_polling(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spin, "usable_cpus", lambda: 2)
    selector = _selector(pair, 2_000_000)  # 2 s: the sender's 1 ms is surely within it
    sender = _send_later(pair[1], 0.001)
    ready = selector.select(None)
    sender.join()
    assert [key.fileobj for key, _ in ready] == [pair[0]]
    assert selector.polled == 1
    selector.close()


def test_waits_longer_than_the_budget_stop_the_polling(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spin, "usable_cpus", lambda: 2)
    selector = _selector(pair, 100)  # 0.1 ms
    for _ in range(3):  # each event comes 20 ms after the wait began: slept for, not polled for
        sender = _send_later(pair[1], 0.02)
        assert selector.select(None)
        sender.join()
        pair[0].recv(16)
    assert selector.polled == 0
    assert selector.gate.average_s > selector.budget_s
    pair[1].send(b"x")  # now an event is there at once, but the average says polling does not pay
    assert selector.select(None)
    assert selector.polled == 0
    selector.close()


@pytest.mark.parametrize(("cpus", "spin_us", "enabled"), [(1, 300, True), (2, 0, True), (2, 300, False)])
def test_no_polling_with_one_cpu_no_budget_or_when_switched_off(
    pair: tuple[socket.socket, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
    cpus: int,
    spin_us: float,
    enabled: bool,
) -> None:
    monkeypatch.setattr(spin, "usable_cpus", lambda: cpus)
    selector = _selector(pair, spin_us)
    selector.enabled = enabled
    pair[1].send(b"x")
    assert selector.select(None)
    assert selector.polled == 0
    assert (selector.budget_s > 0) == (cpus > 1 and spin_us > 0)
    selector.close()


def test_a_timeout_shorter_than_the_budget_is_kept(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No event: select returns empty once its timeout passed, however large the polling budget."""
    monkeypatch.setattr(spin, "usable_cpus", lambda: 2)
    selector = _selector(pair, 5_000_000)  # 5 s
    start = time.monotonic()
    assert selector.select(0.02) == []
    assert time.monotonic() - start < 2.0
    assert selector.select(0) == []
    selector.close()


def test_a_polling_loop_runs_asyncio_as_usual(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timers, callbacks from other threads and socket I/O all work on a polling event loop."""
    monkeypatch.setattr(spin, "usable_cpus", lambda: 2)
    loop, selector = new_event_loop(1000)
    assert selector is not None

    ours, theirs = socket.socketpair()

    async def main() -> list[str]:
        seen: list[str] = []
        reader, writer = await asyncio.open_connection(sock=ours)
        running = asyncio.get_running_loop()
        threading.Thread(target=lambda: running.call_soon_threadsafe(seen.append, "thread")).start()
        await asyncio.sleep(0.01)
        seen.append("timer")
        theirs.send(b"ping\n")
        seen.append((await reader.readline()).decode().strip())
        writer.close()
        await writer.wait_closed()
        return seen

    try:
        assert loop.run_until_complete(main()) == ["thread", "timer", "ping"]
    finally:
        loop.close()
        theirs.close()


def test_usable_cpus_follows_the_affinity() -> None:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    assert spin.usable_cpus() == len(os.sched_getaffinity(0))
