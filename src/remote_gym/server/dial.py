"""A host that dials out: it attaches to hubs and serves the sessions they route to it, listening nowhere.

Each routed session arrives on a stream the host itself opens: a frame stream to the hub's frames
port when the hub offers one (capability ``hub_frames``), else a gRPC Carry stream. Its messages go
through the servicer's own Session handler, as if the trainer had connected here, so every session
guarantee (limits, workers, resumption, metrics) holds unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, cast

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym._constants import HUB_METADATA_CARRY, HUB_REDIAL_BACKOFF_S, PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.capabilities import CAPABILITIES
from remote_gym.codec.errors import error_from_proto
from remote_gym.errors import ConfigError, RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.config import ServerConfig
from remote_gym.server.servicer import RemoteGymServicer
from remote_gym.transport.frame_stream import FrameStream
from remote_gym.transport.options import channel_options
from remote_gym.transport.status import REASON_METADATA_KEY
from remote_gym.transport.tls import is_loopback

logger = logging.getLogger(__name__)

_HUB = pb.DESCRIPTOR.services_by_name["RemoteGymHub"].full_name
ATTACH_METHOD = f"/{_HUB}/Attach"
CARRY_METHOD = f"/{_HUB}/Carry"

FRAMES_CONNECT_TIMEOUT_S = 3.0
"""Seconds a host waits to connect to a hub's frames port before it carries the session on gRPC."""


class CarryContext:
    """The part of a gRPC servicer context the servicer's Session uses, over a session's stream to a hub
    (a gRPC Carry call, or a :class:`FrameStream`)."""

    def __init__(self, call: Any, peer: str, finish: Callable[[], Awaitable[None]]) -> None:
        self._call = call
        self._peer = peer
        self._finish = finish
        self.first_reply = b""
        self.ended = False
        self.hub_lane: dict[str, Any] | None = None
        """Where a new session's worker opens its own stream to the hub (``LaneSpec.dial``); None: it does not."""

    def peer(self) -> str:
        """The trainer's address, as the hub described it."""
        return self._peer

    async def read(self) -> Any:
        """The next request, or EOF once the hub ended the stream or the link broke (a broken stream)."""
        try:
            data = await self._call.read()
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            return grpc.aio.EOF
        return grpc.aio.EOF if data is None else data  # None: a frame stream's end

    async def write(self, data: bytes) -> None:
        """Send a reply (raises when the link is down: the session then waits for a resume)."""
        if not self.first_reply:
            self.first_reply = data
        await self._call.write(data)

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        """End the trainer's stream with this status, through the hub."""
        reason = dict(trailing_metadata or ()).get(REASON_METADATA_KEY, "")
        await self.end(pb.HubEnd(code=code.value[0], reason=str(reason), message=details))

    async def end(self, end: pb.HubEnd) -> None:
        """Send the session's last message and close our side."""
        if self.ended:
            return
        self.ended = True
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError, OSError):
            await self._call.write(pb.Response(hub_end=end).SerializeToString())
            await self._finish()


class HubDialer:
    """Keeps this host attached to one hub, re-dialing with backoff, and serves what the hub routes."""

    def __init__(self, address: str, config: ServerConfig, servicer: RemoteGymServicer) -> None:
        self.address = address
        self._config = config
        self._servicer = servicer
        self._secret = b""
        """What the hub gave at the last attach: proves a re-dial comes from this same host."""
        self.attached = asyncio.Event()
        self.attaches = 0
        self._carries: set[asyncio.Task[None]] = set()
        self._frames_port = 0
        """The hub's frames port given at the last attach (0: carry sessions on gRPC)."""
        self._worker_lanes = False
        """Whether the hub, at the last attach, takes streams from workers (``HubAttached.worker_lanes``)."""
        self._ssl: ssl.SSLContext | None = None
        token = config.dial_token
        self._metadata: tuple[tuple[str, str], ...] = token.metadata() if token is not None else ()

    def _channel(self) -> grpc.aio.Channel:
        tls, host = self._config.dial_tls, self.address.rpartition(":")[0].strip("[]")
        options = channel_options(
            max_message_bytes=self._config.max_message_bytes, target_name=tls.server_name if tls else None
        )
        if tls is not None:
            return grpc.aio.secure_channel(self.address, tls.channel_credentials(), options=options)
        if is_loopback(host):
            local = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
            return grpc.aio.secure_channel(self.address, local, options=options)
        return grpc.aio.insecure_channel(self.address, options=options)

    async def run(self) -> None:
        """Attach, serve, and re-attach after every broken link, until cancelled."""
        delay = HUB_REDIAL_BACKOFF_S[0]
        while True:
            attaches = self.attaches
            try:
                await self._attach_once()
            except RemoteGymError as exc:  # the hub refused: say why, and try again slowly
                logger.error("hub %s refused this host: %s", self.address, exc)
                delay = HUB_REDIAL_BACKOFF_S[1]
            except (grpc.aio.AioRpcError, OSError, asyncio.InvalidStateError) as exc:
                if isinstance(exc, grpc.aio.AioRpcError) and exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    logger.error("hub %s refused this host's token: %s", self.address, exc.details())
                    delay = HUB_REDIAL_BACKOFF_S[1]
                else:
                    logger.info("link to hub %s down: %s", self.address, _describe(exc))
            if (
                self.attaches > attaches
            ):  # this link was up: the next one is tried at once, with backoff after
                delay = HUB_REDIAL_BACKOFF_S[0]
            self.attached.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, HUB_REDIAL_BACKOFF_S[1])

    async def _attach_once(self) -> None:
        channel = self._channel()
        try:
            call = channel.stream_stream(ATTACH_METHOD)(metadata=self._metadata, wait_for_ready=True)
            await call.write(pb.HubHostMessage(attach=self._announcement()).SerializeToString())
            reply = await call.read()
            if reply is grpc.aio.EOF:
                code = await call.code()
                raise grpc.aio.AioRpcError(code, None, None, await call.details())
            control = pb.HubControl.FromString(reply)
            if control.WhichOneof("kind") == "error":
                raise error_from_proto(control.error, context=f"attaching to hub {self.address}")
            self._secret = control.attached.secret
            self._frames_port = control.attached.frames_port
            self._worker_lanes = control.attached.worker_lanes
            self.attaches += 1
            self.attached.set()
            logger.info("attached to hub %s as %s", self.address, self._config.dial_name)
            writing = asyncio.Lock()  # one write at a time on the stream
            while (reply := await call.read()) is not grpc.aio.EOF:
                control = pb.HubControl.FromString(reply)
                kind = control.WhichOneof("kind")
                if kind == "open":
                    task = asyncio.ensure_future(self._carry(channel, control.open))
                elif kind == "stats":
                    task = asyncio.ensure_future(self._answer_stats(call, writing, control.stats.ask_id))
                else:
                    continue
                self._carries.add(task)
                task.add_done_callback(self._carries.discard)
        finally:
            await channel.close(
                grace=None
            )  # carries on this link break too: their sessions wait for a resume

    def _announcement(self) -> pb.HubAttach:
        config = self._config
        attach = pb.HubAttach(
            name=config.dial_name,
            capacity=config.max_sessions,
            secret=self._secret,
            server_version=__version__,
            protocol_version=PROTOCOL_VERSION,
            hosting=config.hosting,
            capabilities=sorted(CAPABILITIES),
        )
        for i, entry in enumerate(config.environments):
            attach.environments.add(name=entry.name, allowed_kwargs=entry.allowed_list(), is_default=i == 0)
        return attach

    async def _answer_stats(self, call: Any, writing: asyncio.Lock, ask_id: int) -> None:
        """Send the hub this host's figures (what its own GetStats answers)."""
        stats = await self._servicer.get_stats(pb.StatsRequest(), cast(grpc.aio.ServicerContext, None))
        reply = pb.HubHostMessage(stats=pb.HubStatsReply(ask_id=ask_id, stats=stats))
        async with writing:
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                await call.write(reply.SerializeToString())

    async def _carry(self, channel: grpc.aio.Channel, opened: pb.HubOpen) -> None:
        """Serve one routed session over a frame stream (or a Carry call), through the servicer's Session handler."""
        stream = await self._open_frames(opened.carry_id) if self._frames_port else None
        if stream is not None:
            context = CarryContext(stream, opened.peer, _closer(stream))
            if self._worker_lanes:
                context.hub_lane = self._worker_dial(opened.carry_id)
        else:
            metadata = (*self._metadata, (HUB_METADATA_CARRY, opened.carry_id))
            call = channel.stream_stream(CARRY_METHOD)(metadata=metadata)
            context = CarryContext(call, opened.peer, call.done_writing)
        try:
            await self._servicer.session(None, cast(grpc.aio.ServicerContext, context))
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError, OSError) as exc:
            logger.info("a session's link to hub %s broke: %s", self.address, _describe(exc))
            if stream is not None:
                stream.abort()
            return
        await context.end(pb.HubEnd(session_over=self._over(context.first_reply)))

    async def _open_frames(self, carry_id: str) -> FrameStream | None:
        """A frame stream to the hub for one session, its hello sent; None (and gRPC from now on, until
        the next attach) when the hub's frames port cannot be reached."""
        host, port, tls = (
            self.address.rpartition(":")[0].strip("[]"),
            self._frames_port,
            self._config.dial_tls,
        )
        limit = self._config.max_message_bytes
        try:
            if tls is not None and self._ssl is None:
                self._ssl = tls.ssl_context()
            _, stream = await asyncio.wait_for(
                asyncio.get_running_loop().create_connection(
                    lambda: FrameStream(limit),
                    host,
                    port,
                    ssl=self._ssl if tls is not None else None,
                    server_hostname=(tls.server_name or host) if tls is not None else None,
                ),
                FRAMES_CONNECT_TIMEOUT_S,
            )
        except (OSError, asyncio.TimeoutError, ConfigError) as exc:
            logger.warning(
                "cannot open a frame stream to hub %s on port %d (%s): sessions take gRPC streams until "
                "the next attach",
                self.address,
                port,
                _describe(exc),
            )
            self._frames_port = 0
            return None
        stream.send_hello(carry_id.encode("ascii"))
        return stream

    def _worker_dial(self, carry_id: str) -> dict[str, Any]:
        """How a session's worker reaches the hub (``LaneSpec.dial``): where this host's frame stream
        went, with the same TLS, presenting ``"w"`` + the carry id."""
        tls = self._config.dial_tls
        files = None
        if tls is not None:
            files = {
                "ca": str(tls.ca or ""),
                "cert": str(tls.cert or ""),
                "key": str(tls.key or ""),
                "server_name": tls.server_name or "",
            }
        host = self.address.rpartition(":")[0].strip("[]")
        return {"host": host, "port": self._frames_port, "hello": f"w{carry_id}", "tls": files}

    def _over(self, first_reply: bytes) -> bool:
        try:
            session_id = pb.Response.FromString(first_reply).make.session_id
        except Exception:
            return True
        return not any(record.session_id == session_id for record in self._servicer.sessions)

    async def stop(self, grace: float | None) -> None:
        """Give open sessions ``grace`` seconds (None: until they end) to end, then cut their carries."""
        if self._carries and (grace is None or grace > 0):
            await asyncio.wait(list(self._carries), timeout=grace)
        for task in list(self._carries):
            task.cancel()


def start_dialers(
    config: ServerConfig, servicer: RemoteGymServicer
) -> list[tuple[HubDialer, asyncio.Task[None]]]:
    """A running dialer for each hub of ``config.dial`` (on the running loop), with its task."""
    dialers = [HubDialer(address, config, servicer) for address in config.dial]
    return [(dialer, asyncio.ensure_future(dialer.run())) for dialer in dialers]


async def stop_dialers(dialers: list[tuple[HubDialer, asyncio.Task[None]]], grace: float | None) -> None:
    """Stop attaching, and stop each dialer's sessions (see :meth:`HubDialer.stop`)."""
    await asyncio.gather(*(dialer.stop(grace) for dialer, _ in dialers))
    for _, task in dialers:
        task.cancel()


def _closer(stream: FrameStream) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        stream.close()

    return close


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__
