"""The server's end of a worker's socket: numbered frames handed to whoever awaits that number."""

from __future__ import annotations

import asyncio
import logging
import socket

from remote_gym.transport.reads import KeptBufferReads
from remote_gym.wire.frames import READ_BYTES, FrameDecoder
from remote_gym.wire.polling import spin

logger = logging.getLogger(__name__)


class FrameProtocol(KeptBufferReads):
    """Splits the worker's byte stream into numbered frames and hands each to the request of that number.

    A reply whose request is no longer awaited (its wait was cancelled when the client's stream
    broke) finds no waiter and is dropped: no interleaving of cancellations can pair a reply with
    another request. A Protocol callback instead of StreamReader.readexactly: no extra futures per
    frame on the hot path.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoder = FrameDecoder()
        # The worker's first frame (number 0) describes its env; it may come before anyone asks.
        self._waiters: dict[int, asyncio.Future[bytes]] = {0: asyncio.get_running_loop().create_future()}
        self._lost = False
        self.dropped = 0
        """Replies dropped because their request was abandoned."""

    def data_received(self, data: bytes | memoryview) -> None:
        for number, frame in self._decoder.feed(data):
            waiter = self._waiters.pop(number, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
            else:
                self.dropped += 1
                logger.debug("dropping the reply to abandoned request %d", number)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("the worker closed its socket"))

    def expect(self, number: int) -> asyncio.Future[bytes]:
        """A future for the reply numbered ``number`` (register it before sending the request)."""
        waiter = self._waiters.get(number)
        if waiter is None:
            waiter = self._waiters[number] = asyncio.get_running_loop().create_future()
        if self._lost and not waiter.done():
            waiter.set_exception(ConnectionResetError("the worker closed its socket"))
        return waiter

    def forget(self, number: int) -> None:
        """Nobody waits for reply ``number`` any more: drop it when it comes."""
        waiter = self._waiters.pop(number, None)
        if waiter is not None and not waiter.done():
            waiter.cancel()

    def poll(self, sock: socket.socket, budget_s: float, waiter: asyncio.Future[bytes]) -> bool:
        """Read the worker's socket directly, without sleeping, for up to ``budget_s``, until ``waiter`` is done.

        Blocks the event loop meanwhile, so it is only worth it for replies expected within microseconds.
        Bytes read but not yet a whole frame stay buffered for the transport's reads that follow.

        Returns:
            Whether ``waiter`` is done.
        """

        def read_once() -> bool | None:
            try:
                chunk = sock.recv(READ_BYTES)  # non-blocking (the transport's socket): every OS
            except BlockingIOError:
                return None
            except OSError:
                return False  # the transport's own read reports the failure
            if not chunk:
                return False  # end of stream: likewise left to the transport, which sees it again
            self.data_received(chunk)
            return True if waiter.done() else None

        return waiter.done() or bool(spin(read_once, budget_s))
