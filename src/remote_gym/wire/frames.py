"""The frame format every socket of remote-gym speaks: ``<u32 length><u32 number><payload>``.

Used between the server and its worker processes, and on the same-host lane between a client and a
worker. Little-endian. Requests are numbered from 1 (wrapping before ``NUMBER_MODULUS``); a reply
carries the number of its request, so a reply nobody waits for any more is recognised and dropped,
never paired with another request. Frames numbered :data:`CONTROL_NUMBER` are control messages
(:mod:`.control`), except the first frame each way, which starts the conversation (a worker's
description of its env; the lane's handshake, :mod:`.handshake`).
"""

from __future__ import annotations

import struct

from remote_gym.errors import ProtocolError

_HEADER = struct.Struct("<II")
HEADER_BYTES = _HEADER.size
"""Bytes of a frame's header."""

NUMBER_MODULUS = 1 << 32
"""Frame numbers wrap around at this value (a peer never has that many requests in flight)."""

CONTROL_NUMBER = 0
"""Frame number of control messages (requests are numbered from 1)."""

SMALL_FRAME_BYTES = 1 << 16
"""Frames up to this size are written with one copy and one system call (header and payload
joined); larger ones as two writes, without copying the payload."""

READ_BYTES = 1 << 16
"""Most bytes one read of a frame stream asks for, on every socket of every process.

A read into a new bytes object (``recv(n)``, ``read1(n)``) allocates ``n`` bytes first and shrinks
them to what came. Glibc serves 256 KiB from fresh mapped pages and unmaps them again (mmap, mremap,
munmap and a page fault: ~14 µs on this project's 2-core machines, measured on a socketpair with
64-byte messages), 64 KiB from its heap (~1.5 µs, as a ``recv_into`` a kept buffer). A larger frame
takes several reads, or one sized to what it still misses."""


class FrameTooLargeError(ProtocolError):
    """A frame's header announces more bytes than the receiver accepts."""


def encode_header(size: int, number: int = CONTROL_NUMBER) -> bytes:
    """The header of a frame of ``size`` bytes carrying ``number``."""
    return _HEADER.pack(size, number % NUMBER_MODULUS)


def encode_frame(payload: bytes, number: int = CONTROL_NUMBER) -> bytes:
    """A whole frame: header and payload in one buffer."""
    return _HEADER.pack(len(payload), number % NUMBER_MODULUS) + payload


def frame_parts(payload: bytes, number: int = CONTROL_NUMBER) -> tuple[bytes, ...]:
    """What to write for one frame: one joined buffer when small, else header and payload apart."""
    if len(payload) < SMALL_FRAME_BYTES:
        return (_HEADER.pack(len(payload), number % NUMBER_MODULUS) + payload,)
    return (_HEADER.pack(len(payload), number % NUMBER_MODULUS), payload)


class Numbering:
    """Request numbers of one sender: 1, 2, ..., ``NUMBER_MODULUS - 1``, 1, ... (never 0)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0
        """The number given out last (0 before the first)."""

    def next(self) -> int:
        """The next request number."""
        self.last = number = self.last % (NUMBER_MODULUS - 1) + 1
        return number


class FrameDecoder:
    """Bytes in, whole frames out: ``feed`` what was read, take the frames it completed.

    Bytes of a frame not yet complete stay buffered for the next ``feed``. With
    ``max_frame_bytes``, a header announcing more raises :class:`FrameTooLargeError` as soon as
    it is seen (before its payload is read); the stream is then out of step: :meth:`clear` the
    decoder before feeding it another stream's bytes.
    """

    __slots__ = ("_buffer", "max_frame_bytes")

    def __init__(self, max_frame_bytes: int | None = None) -> None:
        self._buffer = bytearray()
        self.max_frame_bytes = max_frame_bytes

    @property
    def buffered(self) -> int:
        """Bytes held (the start of a frame not yet complete)."""
        return len(self._buffer)

    def missing(self) -> int:
        """Bytes still needed to complete the frame in progress (0 when none is; a header counts)."""
        have = len(self._buffer)
        if not have:
            return 0
        if have < HEADER_BYTES:
            return HEADER_BYTES - have
        size: int = _HEADER.unpack_from(self._buffer)[0]
        return max(0, HEADER_BYTES + size - have)

    def feed(self, data: bytes | bytearray | memoryview) -> list[tuple[int, bytes]]:
        """Add bytes read from the peer; return every frame they complete as ``(number, payload)``.

        Raises:
            FrameTooLargeError: A header announces more than ``max_frame_bytes``.
        """
        buffer = self._buffer
        if not buffer and len(data) >= HEADER_BYTES:
            # The common case: the read holds exactly one whole frame. No copy into the buffer.
            size, number = _HEADER.unpack_from(data)
            if len(data) == HEADER_BYTES + size:
                self._check(size)
                return [(number, bytes(data[HEADER_BYTES:]))]
        buffer += data
        frames: list[tuple[int, bytes]] = []
        start = 0
        end_of_data = len(buffer)
        with memoryview(buffer) as view:  # one copy per payload, out of the buffer
            while end_of_data - start >= HEADER_BYTES:
                size, number = _HEADER.unpack_from(buffer, start)
                self._check(size)
                end = start + HEADER_BYTES + size
                if end > end_of_data:
                    break
                frames.append((number, bytes(view[start + HEADER_BYTES : end])))
                start = end
        if start:
            del buffer[:start]
        return frames

    def _check(self, size: int) -> None:
        limit = self.max_frame_bytes
        if limit is not None and size > limit:
            raise FrameTooLargeError(f"a frame of {size} bytes is over the limit of {limit} bytes")

    def clear(self) -> None:
        """Forget any partial frame (the stream it came from is gone)."""
        self._buffer.clear()
