"""asyncio protocols whose reads land in one kept buffer (``recv_into``), not in a new bytes object each.

asyncio's socket transports read a plain ``Protocol`` with ``recv(256 KiB)``: every read allocates
256 KiB and shrinks it to what came, which costs several system calls (see
:data:`remote_gym.wire.frames.READ_BYTES`). A ``BufferedProtocol`` is read into a buffer it hands
out instead. Both frame protocols of the package (the server's end of a worker's socket, and the
hub's frame streams) take their reads this way.
"""

from __future__ import annotations

import asyncio

from remote_gym.wire.frames import READ_BYTES


class KeptBufferReads(asyncio.BufferedProtocol):
    """Reads into one buffer of ``READ_BYTES``, passed to :meth:`data_received` as a view.

    The view is only valid during the call: a subclass keeps nothing of it but copies (the
    :class:`~remote_gym.wire.frames.FrameDecoder` copies what it keeps and every payload it returns).
    """

    def __init__(self) -> None:
        self._read_view = memoryview(bytearray(READ_BYTES))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._read_view[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        """Take bytes read from the peer (a view of the kept buffer, or bytes read elsewhere)."""
        raise NotImplementedError
