"""A loopback TCP proxy for tests that can cut every connection through it on demand."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to a target address; :meth:`cut` resets all live connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cutting-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0
        self.cuts = 0

    def start(self) -> CuttingProxy:
        """Listen on a free loopback port."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if dst in self._frozen:  # a silent network: bytes vanish, nobody is told
                        continue
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def cut(self) -> None:
        """Reset every connection through the proxy (both sides see a TCP RST, as on a network failure)."""

        def reset_all() -> None:
            for writer in list(self._writers):
                sock = writer.get_extra_info("socket")
                with contextlib.suppress(Exception):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(reset_all)
        self.cuts += 1

    def freeze(self) -> None:
        """Silently drop all traffic of the live connections (no FIN, no RST): only keepalive can tell."""
        self._loop.call_soon_threadsafe(lambda: self._frozen.update(self._writers))

    def stop(self) -> None:
        """Close everything and stop the proxy thread."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@contextlib.contextmanager
def cutting_proxy(target_host: str, target_port: int) -> Iterator[CuttingProxy]:
    """A running :class:`CuttingProxy` for the ``with`` block."""
    proxy = CuttingProxy(target_host, target_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
