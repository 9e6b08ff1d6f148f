"""The hub's host-facing side: a host's Attach (control) stream, and the stream of each routed session.

A routed session travels over a frame stream (a TCP or TLS connection the host opens to the hub's
frames port, capability ``hub_frames``) or, for hosts without it or that cannot reach that port, a
gRPC Carry stream. Either way the relay reads and writes it the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from google.protobuf.message import DecodeError

from remote_gym._constants import HUB_METADATA_CARRY
from remote_gym._version import __version__
from remote_gym.capabilities import CAP_HUB_FRAMES, CAP_HUB_WORKER_LANES
from remote_gym.codec.errors import error_to_proto
from remote_gym.errors import InvalidCallError, RemoteGymError
from remote_gym.hub.foreign import attach_timeout_error, parse_from_trainer
from remote_gym.hub.hosts import HostLink, HostTable
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.frame_stream import FrameStream

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
"""What a host's name may be (as a DNS label, with dots and underscores)."""

LOCAL_PEERS = ("ipv4:127.", "ipv6:[::1]", "ipv6:[::ffff:127.", "unix:")
"""gRPC peers on this machine (loopback or a Unix socket)."""

ATTACH_TIMEOUT_S = 10.0
"""Seconds a new Attach stream has to send its HubAttach."""

CARRY_TIMEOUT_S = 10.0
"""Seconds a host has to open the Carry stream the hub asked for."""

LANE_WAIT_S = 0.2
"""At most this long, a session's first request after its make (or resume) waits for its worker's lane
while a connection to the frames port has not said its hello yet: the worker dials before its host
answers the make, but the hub may read that hello after the trainer's next request (a loaded machine),
which would then take the host's stream. Nothing waits when no hello is outstanding."""


class CarryStream(Protocol):
    """What the relay uses of a session's stream from its host (a gRPC Carry call, or a FrameStream)."""

    async def read(self) -> Any:
        """The next message; ``grpc.aio.EOF`` (gRPC) or None (frames) once the stream ended."""

    async def write(self, data: bytes) -> None:
        """Send one message."""


@dataclass(eq=False)
class Carry:
    """One routed session's stream from its host, handed to the relay that asked for it."""

    context: CarryStream
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by the relay when it is finished with the stream (the Carry call then ends)."""
    lost: bool = False
    """The host's side of the stream broke before the relay was done."""
    relay: asyncio.Task[Any] | None = None
    """The relay's task, cancelled when the stream breaks under it (unless :attr:`writing`)."""
    writing: bool = False
    """The relay is writing to the trainer's stream: cancelled there, it could no longer end that call
    (gRPC refuses a status while a message is being sent), so it looks at :attr:`lost` after the write."""
    lane_id: str = ""
    """The hello the session's worker presents to open :attr:`lane` ("": none expected)."""
    lane: FrameStream | None = None
    """The session's worker's own stream (capability ``hub_worker_lanes``): requests go there while it
    is open; None before it came, and after it broke."""


class HostLinks:
    """Attach and Carry, for the hosts the hub's table holds."""

    def __init__(self, table: HostTable, max_message_bytes: int) -> None:
        self.table = table
        self._limit = max_message_bytes
        self._waiting: dict[str, asyncio.Future[Carry]] = {}
        self._lanes: dict[str, Carry] = {}
        """Carries whose worker may still open its lane, by the hello it will present."""
        self.frames_port = 0
        """The port hosts open frame streams to (0: none; every session then takes a Carry stream)."""
        self._accepting: set[asyncio.Task[None]] = set()
        self._unsaid = 0
        """Connections to the frames port whose hello the hub has not read yet."""
        self._said = asyncio.Event()
        """Set (and replaced) each time such a hello is read, or its connection gives up."""

    async def attach(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        """A host's control stream: HubAttach in, HubAttached out, then a HubOpen per routed session."""
        peer = context.peer()
        try:
            first = await asyncio.wait_for(context.read(), ATTACH_TIMEOUT_S)
            host = self.table.attach(_parse_attach(first), peer, link := object())
        except (asyncio.TimeoutError, RemoteGymError) as exc:
            if isinstance(exc, asyncio.TimeoutError):
                exc = attach_timeout_error(ATTACH_TIMEOUT_S)
            logger.warning("refused a host from %s: %s", peer, exc)
            with contextlib.suppress(Exception):
                await context.write(pb.HubControl(error=error_to_proto(exc)).SerializeToString())
            return
        reader = asyncio.ensure_future(_read_until_end(context, host))
        try:
            await context.write(
                pb.HubControl(
                    attached=pb.HubAttached(
                        secret=host.secret,
                        hub_version=__version__,
                        frames_port=self.frames_port if CAP_HUB_FRAMES in host.attach.capabilities else 0,
                        worker_lanes=bool(self.frames_port)
                        and {CAP_HUB_FRAMES, CAP_HUB_WORKER_LANES} <= set(host.attach.capabilities),
                    )
                ).SerializeToString()
            )
            control = host.control
            while (message := await control.get()) is not None:
                await context.write(message.SerializeToString())
        finally:
            reader.cancel()
            self.table.lost(host, link)

    async def open(self, host: HostLink, peer: str) -> Carry:
        """Ask ``host`` for a Carry stream, and wait for it.

        Raises:
            asyncio.TimeoutError: The host did not open it within ``CARRY_TIMEOUT_S``.
        """
        # The host sees the trainer as local (and may offer it the same-host lane) only when both
        # reached the hub over loopback: then trainer, hub and host share one machine.
        if not (peer.startswith(LOCAL_PEERS) and host.peer.startswith(LOCAL_PEERS)):
            peer = f"hub:{peer}"
        carry_id = secrets.token_hex(16)
        waiting: asyncio.Future[Carry] = asyncio.get_running_loop().create_future()
        self._waiting[carry_id] = waiting
        try:
            host.control.put_nowait(pb.HubControl(open=pb.HubOpen(carry_id=carry_id, peer=peer)))
            carry = await asyncio.wait_for(waiting, CARRY_TIMEOUT_S)
        finally:
            self._waiting.pop(carry_id, None)
        if isinstance(carry.context, FrameStream):  # its worker may open a lane (capability hub_worker_lanes)
            carry.lane_id = f"w{carry_id}"
            self._lanes[carry.lane_id] = carry
        return carry

    async def lane_of(self, carry: Carry) -> FrameStream | None:
        """``carry``'s worker lane; while it may still come (see :data:`LANE_WAIT_S`), waited for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LANE_WAIT_S
        while carry.lane is None and carry.lane_id in self._lanes and self._unsaid:
            said = self._said
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(said.wait(), deadline - loop.time())
            if loop.time() >= deadline:
                break
        return carry.lane

    def release(self, carry: Carry) -> None:
        """The relay is done with ``carry``: its worker's lane, if any, closes (and can no longer come)."""
        self._lanes.pop(carry.lane_id, None)
        lane, carry.lane = carry.lane, None
        if lane is not None:
            lane.close()

    async def carry(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        """A host's gRPC stream for one session: handed to the relay waiting for it; open until the relay is done."""
        carry_id = dict(context.invocation_metadata() or ()).get(HUB_METADATA_CARRY, "")
        waiting = self._waiting.pop(str(carry_id), None)
        if waiting is None or waiting.done():
            logger.warning("refused a carry stream from %s: unknown carry id", context.peer())
            await context.abort(grpc.StatusCode.NOT_FOUND, "no session waits for this carry id")
            return
        await self._hand_over(Carry(context), waiting, None)

    def frame_stream(self) -> FrameStream:
        """A new connection to the frames port (the protocol factory of its listener)."""
        stream = FrameStream(self._limit)
        stream.expect_hello()
        stream.on_open = self._accepted
        return stream

    def _accepted(self, stream: FrameStream) -> None:
        self._unsaid += 1
        task = asyncio.ensure_future(self._frames(stream))
        self._accepting.add(task)
        task.add_done_callback(self._accepting.discard)

    async def _frames(self, stream: FrameStream) -> None:
        """A host's frame stream for one session: its hello is the carry id the hub sent the host
        (or, from the session's worker, ``"w"`` and that id: the session's lane)."""
        try:
            hello = await stream.read_hello()
        finally:
            self._unsaid -= 1
            self._said.set()
            self._said = asyncio.Event()
        carry_id = hello.decode("ascii", "replace") if hello is not None else ""
        carry = self._lanes.pop(carry_id, None)
        if carry is not None:
            await _serve_lane(carry, stream)
            return
        waiting = self._waiting.pop(carry_id, None)
        if waiting is None or waiting.done():
            why = "no hello in time" if hello is None else "unknown carry id"
            logger.warning("refused a frame stream from %s: %s", stream.peer(), why)
            stream.abort()
            return
        try:
            await self._hand_over(Carry(stream), waiting, stream.closed)
        finally:
            stream.close()

    async def close_all(self) -> None:
        """End every frame stream (the hub stops)."""
        tasks = list(self._accepting)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _hand_over(
        self, carry: Carry, waiting: asyncio.Future[Carry], closed: asyncio.Event | None
    ) -> None:
        """Give the relay its stream and keep it until the relay is done; if the host's side breaks
        first (the gRPC call is cancelled, or ``closed`` is set), cancel the relay."""
        waiting.set_result(carry)
        try:
            if closed is None:
                await carry.done.wait()
            else:
                ends = [asyncio.ensure_future(carry.done.wait()), asyncio.ensure_future(closed.wait())]
                try:
                    await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for end in ends:
                        end.cancel()
        finally:
            if not carry.done.is_set():  # the host's side broke (or the hub stops)
                carry.lost = True
                if carry.relay is not None and not carry.writing:
                    carry.relay.cancel()


async def _serve_lane(carry: Carry, stream: FrameStream) -> None:
    """Give ``carry`` its worker's lane until either ends."""
    carry.lane = stream
    ends = [asyncio.ensure_future(carry.done.wait()), asyncio.ensure_future(stream.closed.wait())]
    try:
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for end in ends:
            end.cancel()
        if carry.lane is stream:
            carry.lane = None
        stream.close()


async def _read_until_end(context: grpc.aio.ServicerContext, host: HostLink) -> None:
    """Read the host's Attach stream until it ends (after HubAttach, a host sends only the figures the
    hub asked for: each goes to its ask), then end ours."""
    with contextlib.suppress(Exception):
        while (data := await context.read()) is not grpc.aio.EOF:
            try:
                message = pb.HubHostMessage.FromString(bytes(data))
            except DecodeError:
                logger.warning("host %s sent an unreadable message on its control stream", host.name)
                continue
            if message.WhichOneof("kind") == "stats":
                ask = host.asks.pop(message.stats.ask_id, None)
                if ask is not None and not ask.done():
                    ask.set_result(message.stats.stats)
    host.control.put_nowait(None)


def _parse_attach(data: Any) -> pb.HubAttach:
    """The HubAttach in a host's first message.

    Raises:
        InvalidCallError: It is not a valid HubAttach.
    """
    if data is grpc.aio.EOF:
        raise InvalidCallError("the host closed its stream before attaching")
    message = parse_from_trainer(pb.HubHostMessage, bytes(data), "attach message")
    if message.WhichOneof("kind") != "attach":
        raise InvalidCallError("a host's first message must be a HubAttach")
    attach = message.attach
    if not NAME_PATTERN.fullmatch(attach.name):
        raise InvalidCallError(f"invalid host name {attach.name!r}: letters, digits, '.', '_', '-' (max 63)")
    if not attach.environments:
        raise InvalidCallError(f"host {attach.name!r} offers no environment")
    if attach.capacity < 0:
        raise InvalidCallError(f"host {attach.name!r} announced a negative capacity")
    return attach
