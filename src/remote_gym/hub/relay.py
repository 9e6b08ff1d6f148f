"""The hub's trainer-facing Session: route the first request to a host, then forward bytes both ways.

Only the first request (which env, which host) and the first reply (the session id, for resumes) are
decoded; every later message crosses the hub as the bytes it arrived as.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym.codec.errors import error_to_proto
from remote_gym.codec.requests import is_close_request
from remote_gym.errors import InvalidCallError, ServerError
from remote_gym.hub.foreign import parse_from_host, parse_from_trainer
from remote_gym.hub.hosts import HostLink, HostLost, HostTable
from remote_gym.hub.links import Carry, HostLinks
from remote_gym.hub.stats import RESET_KIND, STEP_KIND, HubFigures, Relayed
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.frame_stream import FrameStream
from remote_gym.transport.spin import SpinningSelector
from remote_gym.transport.status import REASON_METADATA_KEY

logger = logging.getLogger(__name__)

HUB_END_PREFIX = pb.Response(hub_end=pb.HubEnd()).SerializeToString()[:2]
"""How a host's Response holding only ``hub_end`` begins (field 140's tag; no other Response does)."""

RESUME_WAIT_S = 1.5
"""Seconds a resume waits for its lost host before the hub tells the trainer to try again (within its
resume attempt's timeout, so that the trainer sees which host it waits for)."""

_CODES = {code.value[0]: code for code in grpc.StatusCode}


def _error_bytes(exc: BaseException) -> bytes:
    return pb.Response(error=error_to_proto(exc)).SerializeToString()


class Relay:
    """Session streams of trainers, each forwarded to and from one host's Carry stream."""

    def __init__(
        self,
        table: HostTable,
        links: HostLinks,
        max_message_bytes: int,
        selector: SpinningSelector | None,
        figures: HubFigures,
    ) -> None:
        self._figures = figures
        self._table = table
        self._links = links
        self._limit = max_message_bytes
        self._selector = selector
        """The loop's selector: it polls for the next message while one session has the hub to itself."""
        self._relaying = 0

    def _count(self, change: int) -> None:
        self._relaying += change
        if self._selector is not None:
            self._selector.enabled = self._relaying == 1

    async def session(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        """One trainer's session, relayed to the host that serves it."""
        first = await context.read()
        if first is grpc.aio.EOF:
            return
        try:
            host, session_id, make = await self._route(first)
        except HostLost as lost:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{lost}; it may come back: try again")
        except ServerError as exc:
            logger.info("refused a session from %s: %s", context.peer(), exc)
            await context.write(_error_bytes(exc))
            return
        try:
            carry = await self._links.open(host, context.peer())
        except asyncio.TimeoutError:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"host {host.name!r} did not take the session")
        carry.relay = asyncio.current_task()
        host.active += 1
        self._count(1)
        path = "hub-frames" if isinstance(carry.context, FrameStream) else "hub-grpc"
        relayed = Relayed(context.peer(), host.name, make.env_name, make.num_envs, session_id, path)
        self._figures.opened(relayed, resumed=bool(session_id))
        try:
            await self._forward(first, relayed, host, carry, context)
        except asyncio.CancelledError:
            if not carry.lost:
                raise
            await self._link_broke(host, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # the host's stream failed under a write or read: as if it broke
            logger.debug("relay to host %s failed: %r", host.name, exc)
            await self._link_broke(host, context)
        finally:
            host.active -= 1
            self._count(-1)
            self._figures.closed(relayed)
            self._links.release(carry)
            carry.done.set()

    async def _route(self, first: bytes) -> tuple[HostLink, str, pb.MakeRequest]:
        """The host for a session's first request, the id of the session it resumes ("" if new), and the request."""
        if len(first) > self._limit:
            raise InvalidCallError(f"first request of {len(first)} bytes is over the limit of {self._limit}")
        make = parse_from_trainer(pb.Request, first, "first request")
        if make.WhichOneof("kind") != "make":
            raise InvalidCallError("the first request of a session must be a MakeRequest")
        resumed = make.make.resume_session_id
        if resumed:
            return await self._table.host_of(resumed, RESUME_WAIT_S), resumed, make.make
        return self._table.route(make.make.env_name, make.make.hub_host), "", make.make

    async def _forward(
        self, first: bytes, relayed: Relayed, host: HostLink, carry: Carry, context: grpc.aio.ServicerContext
    ) -> None:
        """Requests to the host, its replies to the trainer, one for one, until either side ends."""
        upstream, downstream = carry.context, context
        frames = upstream if isinstance(upstream, FrameStream) else None
        if frames is not None and self._selector is not None:
            frames.gate.reset(self._selector.budget_s)
        await upstream.write(first)
        reply = await upstream.read()
        if reply is None:  # a frame stream's end
            reply = grpc.aio.EOF
        if not relayed.session_id and reply is not grpc.aio.EOF and reply[:2] != HUB_END_PREFIX:
            made = parse_from_host(pb.Response, reply, "make reply")
            if made.WhichOneof("kind") == "make":
                relayed.session_id = made.make.session_id
                self._table.routed(relayed.session_id, host)
        read, write, read_up, write_up = downstream.read, downstream.write, upstream.read, upstream.write
        first_after_make = True
        while True:
            if reply is grpc.aio.EOF or reply is None:  # None: a frame stream's end
                await self._link_broke(host, context)
                return
            if reply[:2] == HUB_END_PREFIX:
                end = parse_from_host(pb.Response, reply, "session end").hub_end
                if end.session_over:
                    self._table.sessions.pop(relayed.session_id, None)
                await self._end(end, context)
                return
            carry.writing = True
            try:
                await write(reply)
            finally:
                carry.writing = False
            if carry.lost:  # the host's stream broke during the write (see Carry.writing)
                await self._link_broke(host, context)
                return
            request = await read()
            if request is grpc.aio.EOF:  # the trainer's stream ended: the host sees the same
                return
            kind = request[0] >> 3 if request else 0  # the kind's field number, from the first byte
            relayed.requests += 1
            relayed.steps += kind == STEP_KIND
            relayed.resets += kind == RESET_KIND
            relayed.received += len(request)
            lane = carry.lane
            if lane is None and first_after_make and carry.lane_id:
                lane = await self._links.lane_of(carry)
            first_after_make = False
            reply = None
            if lane is not None and not is_close_request(request):
                reply = await self._by_lane(lane, request)
                if reply is None:  # the lane broke: the host's stream carries the request again
                    carry.lane = None
                    lane.abort()
            if reply is None:
                await write_up(request)
                # A session alone at the hub polls its host's socket for the reply (see FrameStream.poll).
                reply = await (
                    frames.read_soon() if frames is not None and self._relaying == 1 else read_up()
                )
            relayed.sent += len(reply) if isinstance(reply, bytes) else 0

    async def _by_lane(self, lane: FrameStream, request: bytes) -> bytes | None:
        """The reply to ``request`` over the session's worker lane; None if the lane broke before it came
        (the worker applies each request number once, so the host's stream may carry it again)."""
        budget = self._selector.budget_s if self._selector is not None else 0.0
        if lane.gate.budget_s != budget:
            lane.gate.reset(budget)
        try:
            await lane.write(request)
        except ConnectionResetError:
            return None
        return await (lane.read_soon() if self._relaying == 1 else lane.read())

    async def _end(self, end: pb.HubEnd, context: grpc.aio.ServicerContext) -> None:
        """End the trainer's stream as the host ended the session's."""
        if end.code == 0:
            return
        code = _CODES.get(end.code, grpc.StatusCode.UNKNOWN)
        metadata = ((REASON_METADATA_KEY, end.reason),) if end.reason else None
        await context.abort(code, end.message, trailing_metadata=metadata)

    async def _link_broke(self, host: HostLink, context: grpc.aio.ServicerContext) -> None:
        """The host's stream broke: the trainer resumes (through this hub) once the host is back."""
        logger.info("link to host %s broke under a session of %s", host.name, context.peer())
        await context.abort(
            grpc.StatusCode.UNAVAILABLE, f"the link between the hub and host {host.name!r} broke"
        )
