"""The kind of a serialized request, told without parsing it (the server's per-kind accounting)."""

from __future__ import annotations

import pytest

from remote_gym.codec.requests import REQUEST_KINDS, request_kind
from remote_gym.protocol.v1 import remote_gym_pb2 as pb


@pytest.mark.parametrize("seq", [0, 1, 127, 128, 300_000, 2**40])
@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (pb.Request(step=pb.StepRequest()), "step"),
        (pb.Request(reset=pb.ResetRequest()), "reset"),
        (pb.Request(close=pb.CloseRequest()), "close"),
        (pb.Request(async_step=pb.VectorAsyncStepRequest(env_ids=[3, 1])), "async_step"),
        (pb.Request(), "other"),
    ],
)
def test_every_kind_is_told_from_the_first_bytes_whatever_the_sequence_number(
    message: pb.Request, kind: str, seq: int
) -> None:
    message.seq = seq
    data = message.SerializeToString()
    assert REQUEST_KINDS[request_kind(data)] == kind


def test_truncated_or_foreign_bytes_give_a_valid_index() -> None:
    for data in (b"", b"x", b"x\xff", b"\xff\xff\xff\xff\xff\xff", bytes(range(256))):
        assert 0 <= request_kind(data) < len(REQUEST_KINDS)
