"""SessionStream: the channel and bidi call that carry one session, opened again for each resume attempt."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc

from remote_gym.client.channel import (
    INFO_METHOD,
    SESSION_METHOD,
    Metadata,
    fetch_server_info,
    open_channel,
    target_of,
)
from remote_gym.client.config import ClientConfig
from remote_gym.codec.errors import error_from_proto
from remote_gym.codec.requests import resume_request
from remote_gym.errors import ConnectionLostError, ProtocolError, RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.status import ended_call_error, map_errors, parse_response, status_error
from remote_gym.transport.tls import TLSConfig

# Call outcomes that say nothing about the session, only about one connection: try another.
_TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)


class SessionGone(Exception):
    """The server answered a resume with an error: the session cannot go on (ended, expired, shut down)."""

    def __init__(self, error: RemoteGymError) -> None:
        super().__init__(str(error))
        self.error = error


class SessionStream:
    """One session's channel and stream; every coroutine runs on the owning connection's event loop."""

    def __init__(
        self, host: str, port: int, *, tls: TLSConfig | None, config: ClientConfig, metadata: Metadata
    ) -> None:
        self.host = host
        self.port = port
        self.target = target_of(host, port)
        self.tls = tls
        self.config = config
        self.metadata = metadata
        self._channel: grpc.aio.Channel | None = None
        self._call: Any = None

    async def open(self) -> pb.ServerInfo:
        """Connect, wait until the server answers, and open the session stream; the server's description.

        Raises:
            ConnectError, AuthenticationError, ProtocolVersionError: See :func:`fetch_server_info`.
        """
        self._channel = open_channel(self.host, self.port, self.tls, self.config)
        info = await fetch_server_info(
            self._channel,
            host=self.host,
            port=self.port,
            tls=self.tls,
            metadata=self.metadata,
            timeout=self.config.timeouts.connect,
        )
        self._call = self._channel.stream_stream(SESSION_METHOD)(metadata=self.metadata)
        return info

    async def roundtrip(self, data: bytes) -> bytes:
        """Write one request and read its reply.

        Raises:
            ConnectionLostError: The connection broke or the server ended the stream.
            ServerError: The server ended the stream with a deliberate status (shutdown, idle expiry).
        """
        call = self._call
        if call is None:
            raise ConnectionLostError(f"no stream to {self.target} (an earlier resume failed)")
        try:
            await call.write(data)
        except (asyncio.InvalidStateError, grpc.aio.AioRpcError) as exc:
            # The server already ended the call; its final status says why (shutdown, idle expiry, ...).
            raise await ended_call_error(call, f"the server at {self.target}") from exc
        with map_errors(f"request to {self.target}"):  # the connection broke, or the server ended the call
            reply = await call.read()
        if reply is grpc.aio.EOF:
            raise await ended_call_error(call, f"the server at {self.target}")
        return bytes(reply)

    async def bounded_roundtrip(self, data: bytes, timeout: float | None) -> bytes:
        """:meth:`roundtrip`, bounded by ``timeout`` seconds (None: unbounded).

        Raises:
            DeadlineExceededError: No reply within ``timeout``.
            ConnectionLostError, ServerError: As :meth:`roundtrip`.
        """
        with map_errors(f"request to {self.target}", timeout=timeout):
            if timeout is None:
                return await self.roundtrip(data)
            return await asyncio.wait_for(self.roundtrip(data), timeout)

    async def reattach(self, session_id: str, token: str) -> None:
        """Open a new connection and stream, and ask the server to attach session ``session_id`` to it.

        A new channel for every attempt: an old channel whose connection was reset early can wait
        for its keepalive (seconds) before it tries again.

        Raises:
            SessionGone: The server answered with an error (the session is gone).
            ConnectionLostError, grpc.aio.AioRpcError, OSError: This attempt failed; another may not.
        """
        make = resume_request(session_id, token)
        await self.drop()
        self._channel = open_channel(self.host, self.port, self.tls, self.config)
        call = self._channel.stream_stream(SESSION_METHOD)(metadata=self.metadata, wait_for_ready=True)
        try:
            await call.write(make.SerializeToString())
            reply = await call.read()
        except asyncio.InvalidStateError as exc:
            call.cancel()
            raise ConnectionLostError("the resumed stream ended at once") from exc
        except BaseException:
            call.cancel()
            raise
        if reply is grpc.aio.EOF:
            code = await call.code()
            if code not in _TRANSIENT_CODES and code is not grpc.StatusCode.OK:
                error = await status_error(call, code, context=f"resuming on {self.target}")
                raise SessionGone(error)
            raise ConnectionLostError(f"the server closed the resumed stream ({code.name})")
        try:
            response = parse_response(reply, context=f"the server at {self.target}")
        except ProtocolError:
            call.cancel()
            raise
        if response.WhichOneof("kind") == "error":
            call.cancel()
            raise SessionGone(error_from_proto(response.error))
        self._call = call

    async def probe(self, timeout: float) -> None:
        """Send a small call on the same connection and wait up to ``timeout`` for it; never raises.

        gRPC's iomgr client endpoints sometimes miss a TCP reset until they next write: the probe
        makes them write, so a dead connection fails its calls at once.
        """
        if self._channel is None:
            return
        info = self._channel.unary_unary(INFO_METHOD, request_serializer=_serialize_info)
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.TimeoutError):
            await info(pb.ServerInfoRequest(), timeout=timeout, metadata=self.metadata)

    async def drop(self) -> None:
        """Abandon the stream and channel without telling the server anything (it keeps the session)."""
        call, channel = self._call, self._channel
        self._call = self._channel = None
        if call is not None:
            call.cancel()
        if channel is not None:
            await channel.close(grace=None)

    async def aclose(self) -> None:
        """Half-close the stream (the server sees its end), then close the channel."""
        if self._call is not None:
            with contextlib.suppress(Exception):
                await self._call.done_writing()
        await self.drop()


def _serialize_info(request: pb.ServerInfoRequest) -> bytes:
    return request.SerializeToString()
