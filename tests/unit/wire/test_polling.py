"""The one polling policy: budget by CPUs, the running average, the loop, and the server's alone rule."""

from __future__ import annotations

import pytest

from remote_gym.wire import polling
from remote_gym.wire.polling import AVERAGE_WEIGHT, AloneRule, PollGate, spin, spin_budget_s


def test_alone_until_another_session_sends_and_again_after_a_quiet_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session has the server to itself until another one sends, and again once that one is quiet."""
    now = [100.0]
    monkeypatch.setattr(polling.time, "monotonic", lambda: now[0])
    rule = AloneRule()
    a, b = object(), object()

    def request(session: object, after_s: float) -> bool:
        now[0] += after_s
        return rule.alone(session)

    assert [request(a, 0.0), request(a, 0.001), request(a, 0.001)] == [True, True, True]
    assert not request(b, 0.001)  # a sent just before
    assert not request(a, 0.001)  # b sent just before
    assert not request(a, 0.001)  # b's request is still recent
    assert request(a, 0.02)  # b has been quiet for longer than the window
    assert request(a, 0.001)
    assert request(b, 0.5)  # b comes back after a has been quiet: b has the server to itself
    assert not request(a, 0.001)  # ...until a sends again


@pytest.mark.parametrize(("cpus", "expected"), [(1, 0.0), (2, 300e-6), (8, 300e-6)])
def test_no_polling_with_one_cpu(monkeypatch: pytest.MonkeyPatch, cpus: int, expected: float) -> None:
    """With one usable CPU the poller would only keep its peer from running."""
    monkeypatch.setattr(polling, "usable_cpus", lambda: cpus)
    assert spin_budget_s(300.0) == pytest.approx(expected)
    assert spin_budget_s(0.0) == 0.0


def test_the_gate_stops_polling_when_waits_outgrow_the_budget() -> None:
    """Waits within the budget keep polling worth it; a run of longer ones switches it off."""
    gate = PollGate(100e-6)
    assert gate.worth_it()
    gate.note(10e-6)
    assert gate.worth_it()
    for _ in range(20):
        gate.note(1e-3)
    assert not gate.worth_it()
    before = gate.average_s
    gate.note(0.0)
    assert gate.average_s == pytest.approx(before * (1 - AVERAGE_WEIGHT))
    assert not PollGate(0.0).worth_it()


def test_spin_returns_the_first_result_or_none_when_the_budget_runs_out() -> None:
    """The loop returns what the probe found, or None after the budget."""
    calls = iter([None, None, "found"])
    assert spin(lambda: next(calls), 1.0) == "found"
    assert spin(lambda: None, 0.001) is None
    assert spin(lambda: b"", 0.0) == b""  # an empty result (a closed socket) is a result
