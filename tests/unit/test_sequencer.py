"""Numbered requests are applied exactly once; a re-sent request is answered from the record."""

from __future__ import annotations

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.sequencer import Sequencer


def _counting() -> tuple[Sequencer, list[int]]:
    applied: list[int] = []

    def handle(request: pb.Request) -> pb.Response:
        applied.append(request.seq)
        response = pb.Response()
        response.step.reward.int_value = len(applied)
        return response

    return Sequencer(handle), applied


def _step(seq: int) -> bytes:
    request = pb.Request(seq=seq)
    request.step.action.int_value = 0
    return request.SerializeToString()


def test_resent_request_is_replayed_not_applied() -> None:
    """The same number twice applies once and returns the same reply bytes."""
    sequencer, applied = _counting()
    first = sequencer.answer(_step(1))
    again = sequencer.answer(_step(1))
    assert first == again
    assert applied == [1]
    assert sequencer.replays == 1


def test_next_request_is_applied() -> None:
    """The next number is applied normally."""
    sequencer, applied = _counting()
    sequencer.answer(_step(1))
    sequencer.answer(_step(2))
    assert applied == [1, 2]


def test_gap_is_refused() -> None:
    """A number that skips ahead (or goes back further) is refused and nothing is applied."""
    sequencer, applied = _counting()
    sequencer.answer(_step(1))
    for seq in (3, 0 + 5):
        reply = pb.Response.FromString(sequencer.answer(_step(seq)))
        assert reply.error.reason == "INVALID_CALL"
    assert applied == [1]


def test_unnumbered_requests_are_applied_each_time() -> None:
    """Requests without a number (seq 0) are applied every time, as raw clients expect."""
    sequencer, applied = _counting()
    sequencer.answer(_step(0))
    sequencer.answer(_step(0))
    assert applied == [0, 0]


def test_garbage_gets_an_error_reply() -> None:
    """Bytes that are no Request get an INVALID_CALL reply."""
    sequencer, applied = _counting()
    reply = pb.Response.FromString(sequencer.answer(b"\xff\xff\xff"))
    assert reply.error.reason == "INVALID_CALL"
    assert applied == []


def test_frames_round_trip_through_their_length_headers() -> None:
    """Frames of any size (empty, small, above one write's fast path) read back whole and in order."""
    import io

    from remote_gym.server.handlers.frame_io import FrameReader
    from remote_gym.wire.frames import encode_frame, encode_header

    frames = [(0, b""), (1, b"abc"), (7, bytes(700_000)), (2**32 - 1, b"xyz")]
    reader = FrameReader(io.BufferedReader(io.BytesIO(b"".join(encode_frame(data, n) for n, data in frames))))
    assert [reader.read() for _ in frames] == frames
    assert reader.read() is None
    cut = FrameReader(io.BufferedReader(io.BytesIO(encode_header(5) + b"abc")))
    assert cut.read() is None  # a cut frame is the end
