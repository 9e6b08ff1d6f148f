"""Both ends of the lane handshake: the client presents a one-time secret, the worker accepts it once.

The client's first frame carries the session's secret (handed to it over the authenticated gRPC
stream); the worker answers :data:`ACCEPTED` if the secret is right and unused, and otherwise closes
the connection without a word. After that, the lane carries numbered requests and replies
(:mod:`.frames`).
"""

from __future__ import annotations

import hashlib
import hmac

from remote_gym.wire.frames import HEADER_BYTES, FrameDecoder, encode_frame

ACCEPTED = b"ok"
"""The worker's answer to a lane connection that presented the right secret."""

HELLO_MAX_BYTES = 256
"""Longest hello a worker reads (a secret is 32 bytes): a larger one is refused unread."""


def encode_hello(secret: bytes) -> bytes:
    """The client's first frame: its secret."""
    return encode_frame(secret)


def encode_accepted() -> bytes:
    """The worker's answer to a hello it admits."""
    return encode_frame(ACCEPTED)


class HelloReader:
    """One side's reading of the other's first frame (the hello, or the acceptance)."""

    def __init__(self) -> None:
        self._decoder = FrameDecoder(HELLO_MAX_BYTES)

    def missing(self) -> int:
        """Bytes still needed before :meth:`feed` can return the frame (a header's worth at first)."""
        return self._decoder.missing() or (0 if self._decoder.buffered else HEADER_BYTES)

    def feed(self, data: bytes) -> bytes | None:
        """Add bytes read; the first frame's payload once complete, else None.

        Raises:
            FrameTooLargeError: The frame announces more than :data:`HELLO_MAX_BYTES`.
        """
        frames = self._decoder.feed(data)
        return frames[0][1] if frames else None


def is_accepted(payload: bytes) -> bool:
    """Whether the worker's first frame accepted the client."""
    return payload == ACCEPTED


class SecretGate:
    """The worker's one-time secret: the first connection that presents it wins, any later one is refused."""

    def __init__(self, secret: bytes) -> None:
        self._secret: bytes | None = secret

    def admit(self, presented: bytes) -> str | None:
        """Check a presented secret; None if admitted (the secret is then used up), else why not."""
        secret = self._secret
        if secret is None:
            return "its secret was used already"
        if not hmac.compare_digest(presented, secret):
            return "wrong secret"
        self._secret = None
        return None

    def close(self) -> None:
        """Refuse everyone from now on (the lane is closing)."""
        self._secret = None


REOPEN_WINDOW = 8
"""How many derived secrets past the last one used a :class:`SecretChain` accepts (a client counts
every attempt, also those a cut ended before the worker answered)."""


def derived_secret(secret: bytes, attempt: int) -> bytes:
    """The secret of a network lane's connection number ``attempt``: the session's own for 0, then
    ``HMAC-SHA256(secret, "remote-gym lane N")`` (a used or overheard one tells nothing of the next)."""
    if attempt == 0:
        return secret
    return hmac.new(secret, f"remote-gym lane {attempt}".encode(), hashlib.sha256).digest()


class SecretChain(SecretGate):
    """A network lane's secrets: one per connection, so that the client can open its lane again after a cut.

    The first connection presents the session's secret, a later one a :func:`derived_secret` of a
    higher number than any used before (within :data:`REOPEN_WINDOW`); each is good once.
    """

    def __init__(self, secret: bytes) -> None:
        super().__init__(secret)
        self._master: bytes | None = secret
        self._next = 0
        """The lowest attempt number not used yet."""

    def admit(self, presented: bytes) -> str | None:
        """Check a presented secret; None if admitted (it and every lower number are then used up)."""
        master = self._master
        if master is None:
            return "the lane is closed"
        for attempt in range(self._next, self._next + REOPEN_WINDOW):
            if hmac.compare_digest(presented, derived_secret(master, attempt)):
                self._next = attempt + 1
                return None
        for attempt in range(max(0, self._next - REOPEN_WINDOW), self._next):
            if hmac.compare_digest(presented, derived_secret(master, attempt)):
                return "its secret was used already"
        return "wrong secret"

    def close(self) -> None:
        """Refuse everyone from now on."""
        super().close()
        self._master = None
