"""Multi-agent sessions without a server: the capability check, and the kind check before any worker starts."""

from __future__ import annotations

import pytest

from remote_gym.capabilities import CAP_PETTINGZOO
from remote_gym.client.agent_session import describe_reply
from remote_gym.codec.requests import make_request
from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import encode_value
from remote_gym.errors import EnvKindError, InvalidCallError, ProtocolVersionError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.admission import check_kind
from remote_gym.server.registry import make_entry


def _make_response(capabilities: list[str]) -> pb.MakeResponse:
    from gymnasium.spaces import Discrete

    make = pb.MakeResponse(env_name="duel", server_version="1.0.0", capabilities=capabilities)
    encode_value(["a", "b"], make.multi_agent.possible_agents)
    for agent in ("a", "b"):
        entry = make.multi_agent.spaces.add()
        encode_value(agent, entry.agent)
        entry.observation_space.CopyFrom(encode_space(Discrete(3)))
        entry.action_space.CopyFrom(encode_space(Discrete(2)))
    encode_value({}, make.metadata)
    return make


def test_reply_without_the_capability_is_refused() -> None:
    """A make reply that does not list "pettingzoo" (an older server) is a ProtocolVersionError."""
    with pytest.raises(ProtocolVersionError, match=CAP_PETTINGZOO):
        describe_reply(_make_response([]))


def test_reply_with_the_capability_is_described() -> None:
    """A make reply listing "pettingzoo" gives the agents and their spaces."""
    described = describe_reply(_make_response([CAP_PETTINGZOO]))
    assert described.possible_agents == ["a", "b"]
    assert described.action_spaces["b"].n == 2
    assert described.state_space is None


@pytest.mark.parametrize(
    ("entry", "multi_agent", "error"),
    [
        (make_entry("zoo", pettingzoo="classic/rps-v2"), "", EnvKindError),
        (make_entry("cart", gym_id="CartPole-v1"), "parallel", EnvKindError),
        (make_entry("zoo", pettingzoo="classic/rps-v2"), "turns", InvalidCallError),
    ],
    ids=["pettingzoo-as-gymnasium", "gymnasium-as-pettingzoo", "unknown-api"],
)
def test_kind_is_checked_before_a_worker_starts(entry: object, multi_agent: str, error: type) -> None:
    """The server refuses a session of the wrong kind from its registry alone."""
    request = make_request(
        "x", kwargs_json="{}", render_mode=None, compression=False, multi_agent=multi_agent
    )
    with pytest.raises(error):
        check_kind(request.make, entry)  # type: ignore[arg-type]


def test_batched_aec_session_is_refused() -> None:
    """Batches of copies serve the Parallel API only."""
    request = make_request(
        "x", kwargs_json="{}", render_mode=None, compression=False, num_envs=2, multi_agent="aec"
    )
    with pytest.raises(InvalidCallError, match="Parallel"):
        check_kind(request.make, make_entry("zoo", pettingzoo="classic/rps-v2"))
