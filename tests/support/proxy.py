"""A loopback TCP proxy for tests that cuts connections on demand, at chosen chunks, or at random."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Link:
    """One client connection through the proxy and its upstream twin."""

    number: int
    """1 for the first connection accepted, 2 for the next, ..."""
    writers: tuple[asyncio.StreamWriter, asyncio.StreamWriter]
    chunks: int = 0
    """Chunks (TCP reads) forwarded so far, both directions."""
    cut_after: int | None = None
    """Reset this link once it has forwarded this many chunks."""
    cut: bool = False
    history: list[str] = field(default_factory=list)
    """Direction of each chunk forwarded: ``"up"`` (client to server) or ``"down"``."""


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to a target address and resets connections when told to.

    * :meth:`cut` resets every live connection now.
    * :meth:`cut_link_after` resets connection number N once it has forwarded K chunks: with N the
      next connection (a resume) and K = 1, 2, ... a test cuts at every point of a resume handshake
      and of the request re-sent after it.
    * :meth:`cut_randomly` resets every live connection after every ``lo``..``hi`` chunks forwarded.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        *,
        mirror_host: str | None = None,
        also: tuple[int, ...] = (),
    ) -> None:
        self._target = (target_host, target_port)
        self._listen_at = listen
        """Where to listen when not mirroring (a free loopback port unless told)."""
        self._mirror = mirror_host
        """Listen on this address at the targets' own port numbers (None: at ``listen``)."""
        self._also = also
        """More target ports (on ``target_host``), mirrored too: a client that derives one port from
        another (a hub's frames port) goes through the proxy on every one."""
        self._servers: list[asyncio.AbstractServer] = []
        self._loop = asyncio.new_event_loop()
        self._links: dict[int, _Link] = {}
        self._frozen: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cutting-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._planned: dict[int, int] = {}
        self._random: tuple[random.Random, int, int] | None = None
        self._until_random_cut = 0
        self.port = 0
        self.cuts = 0
        self.connections = 0

    def start(self) -> CuttingProxy:
        """Listen (on a free loopback port unless told where, or at the mirrored ports)."""
        self._thread.start()
        host, port = self._target
        if self._mirror is None:
            self._server = self._listen(*self._listen_at, (host, port))
        else:
            self._server = self._listen(self._mirror, port, (host, port))
            self._servers = [self._listen(self._mirror, also, (host, also)) for also in self._also]
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _listen(self, host: str, port: int, target: tuple[str, int]) -> asyncio.AbstractServer:
        def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
            return self._handle(reader, writer, target)

        return asyncio.run_coroutine_threadsafe(asyncio.start_server(handle, host, port), self._loop).result(
            5
        )

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: tuple[str, int]
    ) -> None:
        self.connections += 1
        number = self.connections
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        link = _Link(number, (writer, up_writer), cut_after=self._planned.pop(number, None))
        self._links[number] = link

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: str) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if link.cut:
                        break
                    if dst in self._frozen:  # a silent network: bytes vanish, nobody is told
                        continue
                    dst.write(data)
                    link.chunks += 1
                    link.history.append(direction)
                    if link.cut_after is not None and link.chunks >= link.cut_after:
                        await dst.drain()
                        self._reset([link])
                        break
                    if self._random is not None:
                        self._until_random_cut -= 1
                        if self._until_random_cut <= 0:
                            await dst.drain()
                            self._reset(list(self._links.values()))
                            rng, lo, hi = self._random
                            self._until_random_cut = rng.randint(lo, hi)
                            break
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, "up"), pipe(up_reader, writer, "down"))
        self._links.pop(number, None)

    def _reset(self, links: list[_Link]) -> None:
        """Abort both sides of each link with a TCP RST, as a network failure does."""
        if not links:
            return
        for link in links:
            link.cut = True
            self._links.pop(link.number, None)
            for writer in link.writers:
                sock = writer.get_extra_info("socket")
                with contextlib.suppress(Exception):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
        self.cuts += 1

    def cut(self) -> None:
        """Reset every connection through the proxy now (both sides see a TCP RST, as on a network failure)."""

        async def reset_all() -> None:
            self._reset(list(self._links.values()))

        asyncio.run_coroutine_threadsafe(reset_all(), self._loop).result(5)

    def cut_link_after(self, number: int, chunks: int) -> None:
        """Reset connection ``number`` (counting from 1 in accept order) once it forwarded ``chunks`` chunks."""

        def plan() -> None:
            link = self._links.get(number)
            if link is not None:
                link.cut_after = chunks
            else:
                self._planned[number] = chunks

        self._loop.call_soon_threadsafe(plan)

    def cut_randomly(self, lo: int, hi: int, seed: int = 0) -> None:
        """From now on, reset every live connection after every ``lo``..``hi`` chunks forwarded (any direction)."""

        def plan() -> None:
            rng = random.Random(seed)
            self._random = (rng, lo, hi)
            self._until_random_cut = rng.randint(lo, hi)

        self._loop.call_soon_threadsafe(plan)

    def stop_cutting(self) -> None:
        """No more planned or random cuts."""

        def clear() -> None:
            self._random = None
            self._planned.clear()
            for link in self._links.values():
                link.cut_after = None

        self._loop.call_soon_threadsafe(clear)

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` connections were accepted in all."""
        deadline = time.monotonic() + timeout
        while self.connections < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.connections} connections, waited for {count}")
            time.sleep(0.002)

    def freeze(self) -> None:
        """Silently drop all traffic of the live connections (no FIN, no RST): only keepalive can tell."""

        def freeze_all() -> None:
            for link in self._links.values():
                self._frozen.update(link.writers)

        self._loop.call_soon_threadsafe(freeze_all)

    def stop(self) -> None:
        """Close everything and stop the proxy thread."""

        async def shutdown() -> None:
            for server in (self._server, *self._servers):
                if server is not None:
                    server.close()
                    await server.wait_closed()
            for link in list(self._links.values()):
                for writer in link.writers:
                    writer.transport.abort()
            self._links.clear()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@contextlib.contextmanager
def cutting_proxy(
    target_host: str, target_port: int, *, mirror_host: str | None = None, also: tuple[int, ...] = ()
) -> Iterator[CuttingProxy]:
    """A running :class:`CuttingProxy` for the ``with`` block (see its ``mirror_host`` and ``also``)."""
    proxy = CuttingProxy(target_host, target_port, mirror_host=mirror_host, also=also).start()
    try:
        yield proxy
    finally:
        proxy.stop()
