"""The frame format on byte strings alone: encoding, decoding in any split, limits, numbering."""

from __future__ import annotations

import struct

import pytest

from remote_gym.wire.frames import (
    HEADER_BYTES,
    NUMBER_MODULUS,
    SMALL_FRAME_BYTES,
    FrameDecoder,
    FrameTooLargeError,
    Numbering,
    encode_frame,
    encode_header,
    frame_parts,
)

FRAMES = [(0, b""), (1, b"abc"), (7, bytes(range(256)) * 300), (NUMBER_MODULUS - 1, b"xyz")]


def test_a_frame_is_two_little_endian_u32_then_the_payload() -> None:
    """The header is <u32 length><u32 number>, little-endian, and the number wraps at 2**32."""
    assert encode_frame(b"hi", 5) == struct.pack("<II", 2, 5) + b"hi"
    assert encode_header(3, NUMBER_MODULUS + 2) == struct.pack("<II", 3, 2)
    assert HEADER_BYTES == 8


def test_frames_decode_whatever_the_reads_split_them_into() -> None:
    """Fed in pieces of any size, the decoder gives back exactly the frames, in order."""
    stream = b"".join(encode_frame(payload, number) for number, payload in FRAMES)
    for piece in (1, 3, 8, 9, 1000, len(stream)):
        decoder = FrameDecoder()
        got: list[tuple[int, bytes]] = []
        for start in range(0, len(stream), piece):
            got += decoder.feed(stream[start : start + piece])
        assert got == FRAMES, piece
        assert decoder.buffered == 0


def test_an_incomplete_frame_stays_buffered_and_missing_counts_down() -> None:
    """Bytes of a frame not yet whole stay in the decoder; missing() says how many are still to come."""
    decoder = FrameDecoder()
    assert decoder.missing() == 0
    assert decoder.feed(encode_frame(b"abc", 5) + encode_header(4, 6) + b"de") == [(5, b"abc")]
    assert decoder.missing() == 2
    assert decoder.feed(b"f") == []
    assert decoder.feed(b"g") == [(6, b"defg")]
    assert (decoder.buffered, decoder.missing()) == (0, 0)
    assert decoder.feed(b"\x01\x00") == []
    assert decoder.missing() == HEADER_BYTES - 2


def test_a_header_over_the_limit_is_refused_before_its_payload() -> None:
    """With max_frame_bytes, a larger announced size raises FrameTooLargeError at once."""
    decoder = FrameDecoder(max_frame_bytes=10)
    assert decoder.feed(encode_frame(bytes(10), 1)) == [(1, bytes(10))]
    with pytest.raises(FrameTooLargeError, match="11 bytes"):
        decoder.feed(encode_header(11, 2))
    with pytest.raises(FrameTooLargeError):
        FrameDecoder(max_frame_bytes=10).feed(encode_frame(bytes(11), 1))


def test_small_frames_are_written_as_one_buffer_large_ones_without_copying_the_payload() -> None:
    """frame_parts joins a small frame, and leaves a large payload as its own buffer."""
    assert frame_parts(b"abc", 2) == (encode_frame(b"abc", 2),)
    big = bytes(SMALL_FRAME_BYTES)
    header, payload = frame_parts(big, 3)
    assert payload is big
    assert header == encode_header(len(big), 3)


def test_numbering_starts_at_one_and_never_gives_zero() -> None:
    """Request numbers run 1, 2, ... and skip 0 (control frames) when they wrap."""
    numbers = Numbering()
    assert [numbers.next() for _ in range(3)] == [1, 2, 3]
    numbers.last = NUMBER_MODULUS - 2
    assert [numbers.next() for _ in range(2)] == [NUMBER_MODULUS - 1, 1]
