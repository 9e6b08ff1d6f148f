"""Numbered, length-prefixed frames over a stream socket, between the server and its worker processes.

A frame is ``<u32 length><u32 number><payload>`` (little-endian). The server numbers each request it
writes to a worker; the worker answers with the same number. The server thereby pairs every reply
with its request whatever was cancelled in between: a reply whose request nobody waits for any more
is recognised by its number and dropped, never handed to the next request.
"""

from __future__ import annotations

import socket
import struct
from typing import BinaryIO

_HEADER = struct.Struct("<II")
HEADER_BYTES = _HEADER.size

MAX_FRAME_BYTES = (1 << 32) - 1
"""Largest payload a frame header can describe."""

NUMBER_MODULUS = 1 << 32
"""Frame numbers wrap around at this value (a worker never has that many requests in flight)."""


def pack_header(size: int, number: int = 0) -> bytes:
    """The header of a frame of ``size`` bytes carrying ``number``."""
    return _HEADER.pack(size, number % NUMBER_MODULUS)


def split_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Remove every whole frame from the front of ``buffer``; return them as ``(number, payload)``.

    Bytes of a frame not yet complete stay in ``buffer`` for the next call.
    """
    frames: list[tuple[int, bytes]] = []
    start = 0
    end_of_data = len(buffer)
    while end_of_data - start >= HEADER_BYTES:
        size, number = _HEADER.unpack_from(buffer, start)
        end = start + HEADER_BYTES + size
        if end > end_of_data:
            break
        frames.append((number, bytes(buffer[start + HEADER_BYTES : end])))
        start = end
    if start:
        del buffer[:start]
    return frames


def read_frame(reader: BinaryIO) -> tuple[int, bytes] | None:
    """Read one frame from a buffered blocking reader as ``(number, payload)``; None at end of stream."""
    header = reader.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return None
    size, number = _HEADER.unpack(header)
    data = reader.read(size)
    if len(data) < size:
        return None
    return number, data


def write_frame(sock: socket.socket, data: bytes, number: int = 0) -> None:
    """Write one frame to a blocking socket."""
    header = pack_header(len(data), number)
    if len(data) < 65536:  # one syscall for the common small frame
        sock.sendall(header + data)
    else:  # no extra copy of a large frame
        sock.sendall(header)
        sock.sendall(data)
