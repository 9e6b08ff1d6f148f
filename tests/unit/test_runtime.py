"""The client's in-thread event-loop driver: results, errors, deadlines, and the loop coroutines see."""

from __future__ import annotations

import asyncio
import time

import pytest

from remote_gym.client import runtime
from remote_gym.client.runtime import InlineDriver


@pytest.fixture
def driver() -> InlineDriver:
    driver = InlineDriver()
    driver.acquire()
    yield driver  # type: ignore[misc]
    driver.release()


async def _answer(value: int, yields: int = 3) -> int:
    for _ in range(yields):
        await asyncio.sleep(0)
    return value


def test_results_errors_and_the_running_loop(driver: InlineDriver) -> None:
    async def loop_seen() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    assert [driver.run(_answer(i), 5.0) for i in range(100)] == list(range(100))
    assert driver.run(loop_seen(), None) is driver.loop
    with pytest.raises(ValueError, match="boom"):
        driver.run(fails(), 5.0)
    assert driver.run(_answer(7), 5.0) == 7
    with pytest.raises(RuntimeError):  # no loop is left marked as running in this thread
        asyncio.get_running_loop()


def test_deadlines_cancel_the_call_and_later_calls_still_work(driver: InlineDriver) -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"0\.2 s"):
        driver.run(asyncio.sleep(30), 0.2)
    assert 0.15 < time.monotonic() - start < 5
    assert driver.run(_answer(1), 0.2) == 1
    assert driver.run(asyncio.sleep(0.3, result=2), 5.0) == 2  # a longer deadline after a shorter one
    with pytest.raises(TimeoutError):  # a shorter deadline after a longer one re-arms the watchdog
        driver.run(asyncio.sleep(30), 0.1)


def test_without_run_once_the_standard_path_is_taken(
    driver: InlineDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop lacking BaseEventLoop._run_once (another implementation) still works."""
    calls: list[object] = []
    original = driver.loop.run_until_complete

    def run_until_complete(future: object) -> object:
        calls.append(future)
        return original(future)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime, "_LOOP_STEP", "_no_such_method")
    monkeypatch.setattr(driver.loop, "run_until_complete", run_until_complete)
    assert driver.run(_answer(5), 5.0) == 5
    assert len(calls) == 1
