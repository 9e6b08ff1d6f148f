"""The server polls only for a session that has it to itself, and only with a second CPU."""

from __future__ import annotations

import pytest

from remote_gym.server import polling
from remote_gym.server.polling import PollPolicy


def test_alone_until_another_session_sends_and_again_after_a_quiet_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(polling.time, "monotonic", lambda: now[0])
    policy = PollPolicy(300.0)
    a, b = object(), object()

    def request(session: object, after_s: float) -> bool:
        now[0] += after_s
        return policy.alone(session)

    assert [request(a, 0.0), request(a, 0.001), request(a, 0.001)] == [True, True, True]
    assert not request(b, 0.001)  # a sent just before
    assert not request(a, 0.001)  # b sent just before
    assert not request(a, 0.001)  # b's request is still recent
    assert request(a, 0.02)  # b has been quiet for longer than the window
    assert request(a, 0.001)
    assert request(b, 0.5)  # b comes back after a has been quiet: b has the server to itself
    assert not request(a, 0.001)  # ...until a sends again


@pytest.mark.parametrize(("cpus", "expected"), [(1, 0.0), (2, 300.0), (8, 300.0)])
def test_no_polling_when_the_server_has_one_cpu(
    monkeypatch: pytest.MonkeyPatch, cpus: int, expected: float
) -> None:
    """With one usable CPU the polling server would only keep its worker from running."""
    monkeypatch.setattr(polling, "usable_cpus", lambda: cpus)
    assert PollPolicy(300.0).poll_us == expected
    assert PollPolicy(0.0).poll_us == 0.0
