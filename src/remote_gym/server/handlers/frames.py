"""Numbered, length-prefixed frames over a stream socket, between the server and its worker processes.

A frame is ``<u32 length><u32 number><payload>`` (little-endian). The server numbers each request it
writes to a worker; the worker answers with the same number. The server thereby pairs every reply
with its request whatever was cancelled in between: a reply whose request nobody waits for any more
is recognised by its number and dropped, never handed to the next request.

Requests are numbered from 1. After the first frame each way (the spec, and the env's description),
frames numbered 0 are control messages (JSON) outside the session's requests: ``{"op": "status"}``
asks a worker for its :class:`WorkerStatus`, answered in a frame numbered 0 once the request in hand
(if any) is answered; a worker with a same-host lane also takes ``{"op": "close"}`` (see ``lane.py``).
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO, Protocol

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.sequencer import Sequencer, error_bytes

_HEADER = struct.Struct("<II")
HEADER_BYTES = _HEADER.size

NUMBER_MODULUS = 1 << 32
"""Frame numbers wrap around at this value (a worker never has that many requests in flight)."""

CONTROL_NUMBER = 0
"""Frame number of control messages (requests are numbered from 1)."""
STATUS_REQUEST = b'{"op": "status"}'
"""The control message asking a worker for its :class:`WorkerStatus`."""
CLOSE_LANE_REQUEST = b'{"op": "close"}'
"""The control message asking a lane worker to close its lane (see ``lane.py``)."""


@dataclass
class WorkerStatus:
    """What a worker reports of itself when asked (figures the gRPC process cannot count on its own)."""

    env_restarts: int = 0
    """Sub-envs recreated after they raised (``on_env_failure="restart"``) since the session opened."""
    quiet_s: float | None = None
    """Seconds since its last request on any path (lane workers only: the server sees no other's)."""
    lane_requests: list[int] | None = None
    """Requests answered on its same-host lane, by kind (lane workers only)."""
    lane_meter: dict[str, Any] | None = None
    """Its lane's :class:`~.meter.RequestMeter` in plain form: requests, bytes and latency histograms
    (lane workers only)."""

    def to_bytes(self) -> bytes:
        """The control message carrying it."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> WorkerStatus:
        """Inverse of :meth:`to_bytes`."""
        raw = json.loads(data)
        lane = raw.get("lane_requests")
        quiet = raw.get("quiet_s")
        meter = raw.get("lane_meter")
        return cls(
            env_restarts=int(raw.get("env_restarts", 0)),
            quiet_s=None if quiet is None else float(quiet),
            lane_requests=None if lane is None else [int(n) for n in lane],
            lane_meter=meter if isinstance(meter, dict) else None,
        )


def control_op(data: bytes) -> str | None:
    """The ``op`` of a control message (None if it has none or is not JSON)."""
    try:
        op = json.loads(data).get("op")
    except (ValueError, AttributeError):
        return None
    return op if isinstance(op, str) else None


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


class Handler(Protocol):
    """What :func:`serve_requests` serves: an env or vector handler."""

    def describe(self) -> pb.Response:
        """The MakeResponse."""
        ...

    def handle(self, request: pb.Request) -> pb.Response:
        """Answer one request; never raises."""
        ...

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised, since the handler was created."""
        ...


def write_description(sock: socket.socket, handler: Handler) -> bool:
    """Write the handler's description as frame 0 (an ``Error`` response if it fails); whether it worked."""
    try:
        described = handler.describe()
    except BaseException as exc:
        write_frame(sock, error_bytes(exc))
        return False
    write_frame(sock, described.SerializeToString())
    return True


def serve_requests(sock: socket.socket, reader: BinaryIO, handler: Handler) -> int:
    """Write the handler's description (frame 0), then answer framed requests until the peer hangs up.

    Each request is applied once (:class:`Sequencer`); its reply carries the request's number. A
    status request (a control frame) is answered with the handler's :class:`WorkerStatus`.

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be described.
    """
    try:
        if not write_description(sock, handler):
            return 1
        answer = Sequencer(handler.handle).answer
        while True:
            frame = read_frame(reader)
            if frame is None:
                return 0
            number, data = frame
            if number == CONTROL_NUMBER:
                if control_op(data) == "status":
                    write_frame(sock, WorkerStatus(handler.env_restarts()).to_bytes(), CONTROL_NUMBER)
                continue
            write_frame(sock, answer(data), number)  # the reply carries its request's number
    except (BrokenPipeError, ConnectionResetError):
        return 0
