"""Length-prefixed frames over a stream socket, between the server and its worker processes."""

from __future__ import annotations

import socket
import struct
from typing import BinaryIO

_HEADER = struct.Struct("<I")
HEADER_BYTES = _HEADER.size


MAX_FRAME_BYTES = (1 << 31) - 1


def pack_header(size: int) -> bytes:
    """The 4-byte little-endian length that precedes a frame of ``size`` bytes (< 2 GiB)."""
    return _HEADER.pack(size)


def read_frame(reader: BinaryIO) -> bytes | None:
    """Read one frame from a buffered blocking reader; None at a clean end of stream."""
    header = reader.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return None
    (size,) = _HEADER.unpack(header)
    data = reader.read(size)
    if len(data) < size:
        return None
    return data


def write_frame(sock: socket.socket, data: bytes) -> None:
    """Write one frame to a blocking socket."""
    if len(data) < 65536:  # one syscall for the common small frame
        sock.sendall(_HEADER.pack(len(data)) + data)
    else:  # no extra copy of a large frame
        sock.sendall(_HEADER.pack(len(data)))
        sock.sendall(data)
