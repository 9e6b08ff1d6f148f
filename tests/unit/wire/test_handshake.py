"""The lane handshake on byte strings: hello, acceptance, a one-time secret."""

from __future__ import annotations

import pytest

from remote_gym.wire.frames import FrameTooLargeError, encode_frame, encode_header
from remote_gym.wire.handshake import (
    HELLO_MAX_BYTES,
    HelloReader,
    SecretGate,
    encode_accepted,
    encode_hello,
    is_accepted,
)

SECRET = bytes(range(32))


def test_the_worker_reads_the_hello_and_the_client_the_acceptance_in_any_split() -> None:
    """Each side gets the other's first frame whole however the bytes arrive."""
    for data, expected in ((encode_hello(SECRET), SECRET), (encode_accepted(), b"ok")):
        reader = HelloReader()
        got = None
        for i in range(len(data)):
            assert got is None
            assert reader.missing() > 0
            got = reader.feed(data[i : i + 1])
        assert got == expected
    assert is_accepted(b"ok")
    assert not is_accepted(b"no")


def test_an_oversize_hello_is_refused_unread() -> None:
    """A hello announcing more than HELLO_MAX_BYTES raises before its payload is read."""
    with pytest.raises(FrameTooLargeError):
        HelloReader().feed(encode_header(HELLO_MAX_BYTES + 1))
    assert HelloReader().feed(encode_frame(bytes(HELLO_MAX_BYTES))) == bytes(HELLO_MAX_BYTES)


def test_the_secret_admits_once_and_refuses_wrong_replayed_and_after_close() -> None:
    """A wrong secret is refused; the right one admits once; a replay and a closed gate are refused."""
    gate = SecretGate(SECRET)
    assert gate.admit(b"x" * 32) == "wrong secret"
    assert gate.admit(SECRET) is None
    assert gate.admit(SECRET) == "its secret was used already"
    closed = SecretGate(SECRET)
    closed.close()
    assert closed.admit(SECRET) is not None
