"""Both frame protocols read into one kept buffer; every payload they hand on is its own copy."""

from __future__ import annotations

import asyncio
import os
import socket

from remote_gym.server.hosting.frame_protocol import FrameProtocol
from remote_gym.transport.frame_stream import FrameStream
from remote_gym.transport.reads import KeptBufferReads
from remote_gym.wire.frames import READ_BYTES, encode_frame

# Frames smaller and larger than one read, several to a read and split across reads: a payload that
# kept a view of the read buffer would change under the reads that follow it.
PAYLOADS = [os.urandom(n) for n in (1, 100, READ_BYTES - 8, READ_BYTES, 3 * READ_BYTES + 5, 7, 0, 40_000)]
ALONE = [os.urandom(64) for _ in range(3)]


def _send_in_pieces(sock: socket.socket, data: bytes) -> None:
    for start in range(0, len(data), 50_000):  # pieces that do not line up with frames or reads
        sock.sendall(data[start : start + 50_000])


def test_frame_stream_payloads_survive_the_reads_after_them() -> None:
    async def run() -> None:
        ours, peer = socket.socketpair()
        _, stream = await asyncio.get_running_loop().create_connection(
            lambda: FrameStream(1 << 22), sock=ours
        )
        assert isinstance(stream, KeptBufferReads)
        wire = b"".join(encode_frame(p, i) for i, p in enumerate(PAYLOADS, start=1))
        await asyncio.get_running_loop().run_in_executor(None, _send_in_pieces, peer, wire)
        got = [await stream.read() for _ in PAYLOADS]
        # One frame per read (the decoder's path without a copy into its own buffer), read one by one.
        for i, payload in enumerate(ALONE, start=len(PAYLOADS) + 1):
            peer.sendall(encode_frame(payload, i))
            got.append(await stream.read())
        peer.close()
        assert await stream.read() is None
        assert got == PAYLOADS + ALONE

    asyncio.run(run())


def test_frame_protocol_payloads_survive_the_reads_after_them() -> None:
    async def run() -> None:
        ours, peer = socket.socketpair()
        _, protocol = await asyncio.get_running_loop().create_connection(FrameProtocol, sock=ours)
        waiters = [protocol.expect(i) for i in range(len(PAYLOADS))]
        wire = b"".join(encode_frame(p, i) for i, p in enumerate(PAYLOADS))  # 0: the description
        await asyncio.get_running_loop().run_in_executor(None, _send_in_pieces, peer, wire)
        got = await asyncio.gather(*waiters)
        for i, payload in enumerate(ALONE, start=len(PAYLOADS)):  # one frame per read, one by one
            waiter = protocol.expect(i)
            peer.sendall(encode_frame(payload, i))
            got.append(await waiter)
        assert got == PAYLOADS + ALONE
        peer.close()

    asyncio.run(run())
