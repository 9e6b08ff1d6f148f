"""The server polls only for a session that has it to itself: no other session's request lately."""

from __future__ import annotations

import pytest

from remote_gym.server import servicer as servicer_module
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.servicer import RemoteGymServicer, _SessionInfo


def test_alone_until_another_session_sends_and_again_after_a_quiet_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(servicer_module.time, "monotonic", lambda: now[0])
    servicer = RemoteGymServicer(
        ServerConfig(environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), port=0), None
    )
    a, b = _SessionInfo("a", "CartPole-v1", "peer-a"), _SessionInfo("b", "CartPole-v1", "peer-b")

    def request(info: _SessionInfo, after_s: float) -> bool:
        now[0] += after_s
        return servicer._alone(info)

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
    monkeypatch.setattr(servicer_module, "usable_cpus", lambda: cpus)
    config = ServerConfig(environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), port=0)
    assert RemoteGymServicer(config, None)._poll_us == expected


def test_usable_cpus_follows_the_affinity() -> None:
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    assert servicer_module.usable_cpus() == len(os.sched_getaffinity(0))
