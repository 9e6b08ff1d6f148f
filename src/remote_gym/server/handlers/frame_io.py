"""Blocking frame I/O for worker processes: wire frames read from and written to a stream socket."""

from __future__ import annotations

import socket
from collections import deque
from typing import BinaryIO

from remote_gym.wire.frames import CONTROL_NUMBER, READ_BYTES, FrameDecoder, frame_parts


class FrameReader:
    """Frames from a buffered blocking reader (``sock.makefile("rb")``), one read per frame when small."""

    def __init__(self, reader: BinaryIO, max_frame_bytes: int | None = None) -> None:
        self._reader = reader
        self._decoder = FrameDecoder(max_frame_bytes)
        self._ready: deque[tuple[int, bytes]] = deque()

    def read(self) -> tuple[int, bytes] | None:
        """The next frame as ``(number, payload)``, waiting for it; None at the end of the stream."""
        while not self._ready:
            frames = self.read_available()
            if frames is None:
                return None
            self._ready.extend(frames)
        return self._ready.popleft()

    def read_available(self) -> list[tuple[int, bytes]] | None:
        """Frames held, or else those one read completes (maybe none); None at the end of the stream."""
        if self._ready:
            frames = list(self._ready)
            self._ready.clear()
            return frames
        chunk = self._reader.read1(READ_BYTES)  # type: ignore[attr-defined]
        if not chunk:
            return None
        return self._decoder.feed(chunk)


def write_frame(sock: socket.socket, payload: bytes, number: int = CONTROL_NUMBER) -> None:
    """Write one frame to a blocking socket (one system call when small, no payload copy when large)."""
    for part in frame_parts(payload, number):
        sock.sendall(part)
