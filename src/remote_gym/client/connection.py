"""Connection: the one owner of a channel and its session stream; request/response with timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import warnings
from typing import Any

import grpc

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym.client import runtime
from remote_gym.client.config import ClientConfig
from remote_gym.errors import (
    AuthenticationError,
    ConnectError,
    ConnectionLostError,
    DeadlineExceededError,
    EnvClosedError,
    InsecureChannelWarning,
    ProtocolError,
    RemoteGymError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.diagnose import CLIENT_CERT_FAILURES, diagnose_connect_failure
from remote_gym.transport.options import channel_options
from remote_gym.transport.status import error_from_proto, rpc_error_to_exception
from remote_gym.transport.tls import TLSConfig, is_loopback

logger = logging.getLogger(__name__)

_SERVICE = pb.DESCRIPTOR.services_by_name["RemoteGym"].full_name
_SESSION_METHOD = f"/{_SERVICE}/Session"
_INFO_METHOD = f"/{_SERVICE}/GetServerInfo"
# Error reasons after which the server has ended the session.
_SESSION_ENDING_REASONS = frozenset({"WORKER_CRASHED", "SHUTDOWN"})
# Connect failures that waiting will not fix: report them at once instead of at the timeout.
_PERMANENT_MARKERS = (
    "ssl",
    "handshake",
    "certificate",
    "tsi_",
    "alpn",
    "socket closed",
    "unauthenticated",
    "dns resolution failed",
)


class ConnState(enum.Enum):
    """Lifecycle of a Connection."""

    # The stream is open and in step with the server.
    OPEN = 1
    # A call failed mid-flight (timeout, lost connection); the session cannot be trusted any more.
    BROKEN = 2
    # close() was called.
    CLOSED = 3


def split_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` for IPv6)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConnectError(f"address {address!r} is not host:port")
    return host.strip("[]"), int(port)


def _target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Connection:
    """A channel plus one session stream; every method blocks the caller with a timeout.

    Requests are serialized on the caller's thread and written by the shared client event loop.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: TLSConfig | None,
        config: ClientConfig,
        auth: TokenAuth | None = None,
        driver: runtime.Driver | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.target = _target(host, port)
        self.tls = tls
        self.config = config
        self._metadata = auth.metadata() if auth is not None else None
        self.session_id = ""
        self._seq = 0
        self._resume_token = ""
        self._server_resume_window_s = 0.0
        self.server_info = pb.ServerInfo()
        """What the server said about itself when we connected (versions, environments, capacity)."""
        self._state = ConnState.OPEN
        self._channel: grpc.aio.Channel | None = None
        self._call: Any = None
        self._broken_by: RemoteGymError | None = None
        if tls is None and not is_loopback(host):
            warnings.warn(
                f"plaintext channel to {self.target}: traffic is neither encrypted nor authenticated; "
                "pass client_credentials_paths (TLS) for anything but a trusted network",
                InsecureChannelWarning,
                stacklevel=3,
            )
        # Every gRPC object of this connection lives on the driver's loop; a vector env passes one
        # driver to all its hosts' connections so that it can wait on them together.
        self._driver = driver if driver is not None else runtime.new_driver(config.spin_us)
        self._driver.acquire()
        self._driver_released = False
        try:
            self._wait(self._connect(), config.timeouts.connect + 1.0, "connecting")
        except BaseException:
            self._state = ConnState.CLOSED
            self._release()
            raise

    def __repr__(self) -> str:
        return f"Connection({self.target}, {self._state.name.lower()})"

    @property
    def driver(self) -> runtime.Driver:
        """The driver (event loop) this connection's gRPC objects live on."""
        return self._driver

    @property
    def state(self) -> ConnState:
        """Current lifecycle state."""
        return self._state

    # -- event-loop side ---------------------------------------------------------------------

    async def _connect(self) -> None:
        options = channel_options(
            max_message_bytes=self.config.max_message_bytes,
            target_name=self.tls.server_name if self.tls else None,
        )
        if self.tls is not None:
            self._channel = grpc.aio.secure_channel(
                self.target, self.tls.channel_credentials(), options=options
            )
        elif is_loopback(self.host):
            creds = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
            self._channel = grpc.aio.secure_channel(self.target, creds, options=options)
        else:
            self._channel = grpc.aio.insecure_channel(self.target, options=options)
        info = self._channel.unary_unary(
            _INFO_METHOD,
            request_serializer=pb.ServerInfoRequest.SerializeToString,
            response_deserializer=pb.ServerInfo.FromString,
        )
        deadline = time.monotonic() + self.config.timeouts.connect
        delay = 0.05
        while True:
            remaining = deadline - time.monotonic()
            try:
                server_info = await info(
                    pb.ServerInfoRequest(), timeout=max(remaining, 0.01), metadata=self._metadata
                )
                self.server_info = server_info
                break
            except grpc.aio.AioRpcError as exc:
                details = (exc.details() or "").lower()
                transient = exc.code() == grpc.StatusCode.UNAVAILABLE and not any(
                    m in details for m in _PERMANENT_MARKERS
                )
                if not transient or time.monotonic() + delay >= deadline:
                    raise self._connect_error(exc) from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        if server_info.protocol_version != PROTOCOL_VERSION:
            raise ProtocolError(
                f"{self.target} speaks remote-gym protocol {server_info.protocol_version}; "
                f"this client speaks {PROTOCOL_VERSION}"
            )
        self._call = self._channel.stream_stream(_SESSION_METHOD)(metadata=self._metadata)

    def _connect_error(self, exc: grpc.aio.AioRpcError) -> RemoteGymError:
        mapped = rpc_error_to_exception(exc, context=f"cannot connect to {self.target}")
        if isinstance(mapped, (ConnectionLostError, DeadlineExceededError)):
            # gRPC's details rarely say which side is wrong; probing the server does. The probes are
            # short and block the client loop on this failure path only.
            diagnosis = diagnose_connect_failure(
                exc.details() or "", tls=self.tls, host=self.host, port=self.port
            )
            mode = "mutual TLS" if self.tls and self.tls.cert else "TLS" if self.tls else "no TLS"
            cls = AuthenticationError if diagnosis.failure in CLIENT_CERT_FAILURES else ConnectError
            return cls(f"cannot connect to {self.target} ({mode}): {diagnosis.message}")
        return mapped

    async def _roundtrip(self, data: bytes) -> bytes:
        try:
            await self._call.write(data)
        except (asyncio.InvalidStateError, grpc.aio.AioRpcError) as exc:
            # The server already ended the call; its final status says why (shutdown, idle expiry, ...).
            raise await self._ended_error() from exc
        reply = await self._call.read()
        if reply is grpc.aio.EOF:
            raise await self._ended_error()
        return bytes(reply)

    async def _ended_error(self) -> RemoteGymError:
        call = self._call
        code = await call.code()
        if code in (grpc.StatusCode.OK, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED):
            # OK: the server closed the stream; INTERNAL: our write met a call the server had ended.
            return ConnectionLostError(
                f"the server at {self.target} ended the session (stopped or restarted?)"
            )
        status = grpc.aio.AioRpcError(
            code, await call.initial_metadata(), await call.trailing_metadata(), await call.details()
        )
        return rpc_error_to_exception(status, context=f"the server at {self.target} ended the session")

    async def _aclose(self) -> None:
        if self._call is not None:
            with contextlib.suppress(Exception):
                await self._call.done_writing()
            self._call.cancel()
        if self._channel is not None:
            await self._channel.close(grace=None)

    # -- caller side ---------------------------------------------------------------------------

    def _wait(self, coro: Any, timeout: float | None, what: str) -> Any:
        try:
            return self._driver.run(coro, timeout)
        except TimeoutError as exc:
            if isinstance(exc, DeadlineExceededError):
                raise
            raise DeadlineExceededError(f"{what} {self.target} took longer than {timeout} s") from exc
        except grpc.RpcError as exc:
            raise rpc_error_to_exception(exc, context=f"{what} {self.target}") from exc

    def request(
        self, request: pb.Request, *, timeout: float | None = None, what: str = "request to"
    ) -> pb.Response:
        """Send one request and return its response.

        Raises:
            EnvClosedError: :meth:`close` was called.
            ConnectionLostError: The stream broke (now, or during an earlier call).
            DeadlineExceededError: No reply within ``timeout`` (the session is then broken).
            ServerError: The server answered with an error (the session stays usable, except
                after WorkerCrashedError and ServerShutdownError).
        """
        self.check_open()
        call_timeout = self.config.timeouts.call if timeout is None else timeout
        payload = self.prepare(request)
        try:
            try:
                reply = self._wait(self._roundtrip(payload), call_timeout, what)
            except ConnectionLostError as lost:
                reply = self.resume(payload, lost, call_timeout)
        except RemoteGymError as exc:  # the stream is out of step now: no later call may use it
            self.mark_broken(exc)
            raise
        return self.parse_reply(reply)

    def prepare(self, request: pb.Request) -> bytes:
        """Number the request (every request but the first of a session) and serialize it."""
        if request.WhichOneof("kind") != "make":
            self._seq += 1
            request.seq = self._seq
        return request.SerializeToString()

    def resume(self, payload: bytes, lost: ConnectionLostError, call_timeout: float | None) -> bytes:
        """After a dropped connection: reconnect, resume the session and send ``payload`` again.

        The server answers a request it already applied from its record, so nothing runs twice.

        Raises:
            ConnectionLostError: Resuming is off, the server no longer has the session (it ended,
                its resume window passed, or the server restarted), or no connection within
                ``ClientConfig.resume_s``.
        """
        resume_s = self.config.resume_s
        if not resume_s or not self._resume_token or not self._server_resume_window_s:
            raise lost
        deadline = time.monotonic() + resume_s
        logger.info("connection to %s lost (%s); resuming session %s", self.target, lost, self.session_id)
        try:
            reply: bytes = self._wait(
                self._resume(payload, deadline, call_timeout),
                resume_s + (call_timeout or 0) + 1.0 if call_timeout else None,
                "resuming the session on",
            )
            return reply
        except ConnectionLostError:
            raise
        except RemoteGymError as exc:
            raise ConnectionLostError(f"the session with {self.target} could not be resumed: {exc}") from exc

    async def _resume(self, payload: bytes, deadline: float, call_timeout: float | None) -> bytes:
        assert self._channel is not None
        make = pb.Request()
        make.make.protocol_version = PROTOCOL_VERSION
        make.make.resume_session_id = self.session_id
        make.make.resume_token = self._resume_token
        first = make.SerializeToString()
        delay, last = 0.02, "no attempt"
        with contextlib.suppress(Exception):
            self._call.cancel()
        while time.monotonic() < deadline:
            call = self._channel.stream_stream(_SESSION_METHOD)(metadata=self._metadata, wait_for_ready=True)
            try:
                await asyncio.wait_for(call.write(first), max(deadline - time.monotonic(), 0.01))
                reply = await asyncio.wait_for(call.read(), max(deadline - time.monotonic(), 0.01))
                if reply is grpc.aio.EOF:
                    raise ConnectionLostError("the server closed the resumed stream")
                response = pb.Response.FromString(reply)
                if response.WhichOneof("kind") == "error":
                    error = error_from_proto(response.error)
                    raise ConnectionLostError(
                        f"the session with {self.target} cannot go on: {error}"
                    ) from error
                self._call = call
                logger.info("session %s resumed on %s", self.session_id, self.target)
                return await asyncio.wait_for(self._roundtrip(payload), call_timeout)
            except (grpc.aio.AioRpcError, asyncio.TimeoutError, asyncio.InvalidStateError) as exc:
                last = (
                    str(exc.details() if isinstance(exc, grpc.aio.AioRpcError) else exc) or type(exc).__name__
                )
                call.cancel()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        raise ConnectionLostError(
            f"the connection to {self.target} dropped and the session could not be resumed within "
            f"{self.config.resume_s} s (last error: {last})"
        )

    def check_open(self) -> None:
        """Raise unless the connection can carry a request."""
        if self._state is not ConnState.OPEN:
            if self._state is ConnState.CLOSED:
                raise EnvClosedError("the environment was closed")
            raise ConnectionLostError(f"the session with {self.target} is broken: {self._broken_by}")

    def mark_broken(self, cause: RemoteGymError) -> None:
        """Record that the session can no longer be used, and release the stream."""
        if self._state is ConnState.OPEN:
            self._state = ConnState.BROKEN
            self._broken_by = cause
            self._release()

    def parse_reply(self, reply: bytes) -> pb.Response:
        """Decode a reply; raise the server's error if it is one.

        A MakeResponse's session id and resume secret are noted, so that the session can be resumed.
        """
        response = pb.Response.FromString(reply)
        kind = response.WhichOneof("kind")
        if kind == "error":
            error = error_from_proto(response.error)
            if response.error.reason in _SESSION_ENDING_REASONS:
                self.mark_broken(error)
            raise error
        if kind == "make":
            made = response.make
            self.session_id, self._resume_token = made.session_id, made.resume_token
            self._server_resume_window_s = made.resume_window_s
        return response

    def close(self) -> None:
        """End the session politely (CloseRequest), then close the stream and channel; idempotent, never raises."""
        if self._state is ConnState.CLOSED:
            return
        was_open = self._state is ConnState.OPEN and bool(self.session_id)
        self._state = ConnState.CLOSED
        if was_open:
            with contextlib.suppress(Exception):
                payload = self.prepare(pb.Request(close=pb.CloseRequest()))
                self._wait(self._roundtrip(payload), 2.0, "closing the session on")
        self._release()

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self._driver.run(self._aclose(), 5.0)
        if self._state is ConnState.CLOSED and not self._driver_released:
            self._driver_released = True
            self._driver.release()
