"""Length-prefixed frames over a stream socket, between the server and its worker processes."""

from __future__ import annotations

import socket
import struct
from typing import BinaryIO

_HEADER = struct.Struct("<I")
HEADER_BYTES = _HEADER.size


MAX_FRAME_BYTES = (1 << 31) - 1
_POLL_FLAG = 1 << 31
"""Set in a request's header: the worker may poll for the next request after replying."""


def pack_header(size: int, *, poll: bool = False) -> bytes:
    """The 4-byte little-endian length that precedes a frame of ``size`` bytes (< 2 GiB).

    ``poll`` (server to worker only) lets the worker poll for the next request after its reply.
    """
    return _HEADER.pack(size | _POLL_FLAG if poll else size)


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


def read_request(reader: BinaryIO) -> tuple[bytes, bool] | None:
    """Read one request frame and its poll flag (see :func:`pack_header`); None at a clean end."""
    header = reader.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return None
    (value,) = _HEADER.unpack(header)
    size = value & MAX_FRAME_BYTES
    data = reader.read(size)
    if len(data) < size:
        return None
    return data, bool(value & _POLL_FLAG)


def write_frame(sock: socket.socket, data: bytes) -> None:
    """Write one frame to a blocking socket."""
    if len(data) < 65536:  # one syscall for the common small frame
        sock.sendall(_HEADER.pack(len(data)) + data)
    else:  # no extra copy of a large frame
        sock.sendall(_HEADER.pack(len(data)))
        sock.sendall(data)
