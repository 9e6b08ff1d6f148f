"""Connection: the one owner of a channel and its session stream; request/response with timeouts."""

from __future__ import annotations

import contextlib
import enum
import warnings
from collections.abc import Coroutine
from typing import Any

import grpc

from remote_gym._constants import RESUME_ATTEMPT_TIMEOUT_S
from remote_gym.capabilities import Agreement, negotiate, this_release
from remote_gym.client import runtime
from remote_gym.client.channel import server_peer, split_address, target_of
from remote_gym.client.config import ClientConfig
from remote_gym.client.lane import LaneSlot
from remote_gym.client.remake import Remaker
from remote_gym.client.resume import resume_and_resend
from remote_gym.client.stream import SessionStream
from remote_gym.codec.errors import error_from_proto
from remote_gym.codec.requests import close_request
from remote_gym.errors import (
    ConnectionLostError,
    DeadlineExceededError,
    EnvClosedError,
    InsecureChannelWarning,
    ProtocolError,
    RemoteGymError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.status import rpc_error_to_exception
from remote_gym.transport.tls import TLSConfig, is_loopback

__all__ = ["ConnState", "Connection", "split_address"]

# Error reasons after which the server has ended the session.
_SESSION_ENDING_REASONS = frozenset({"WORKER_CRASHED", "SHUTDOWN", "DRAINING"})


class ConnState(enum.Enum):
    """Lifecycle of a Connection."""

    # The stream is open and in step with the server.
    OPEN = 1
    # A call failed mid-flight (timeout, lost connection); the session cannot be trusted any more.
    BROKEN = 2
    # close() was called.
    CLOSED = 3


class Connection:
    """One session with a server; every method blocks the caller, with a timeout.

    The channel and stream (:class:`SessionStream`) live on this connection's event loop, which the
    calling thread drives itself (see :mod:`remote_gym.client.runtime`; a vector env's connections
    share one loop, and a caller whose thread already runs a loop uses a shared loop thread).
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
        self.target = target_of(host, port)
        self.tls = tls
        self.config = config
        self.session_id = ""
        self._seq = 0
        self._resume_token = ""
        self._server_resume_window_s = 0.0
        self.server_info = pb.ServerInfo()
        """What the server said about itself when we connected (versions, environments, capacity)."""
        self.agreement: Agreement | None = None
        """The protocol version and capabilities this session uses (set by its make reply)."""
        self._remaker = Remaker()
        self._state = ConnState.OPEN
        self._stream = SessionStream(
            host, port, tls=tls, config=config, metadata=auth.metadata() if auth is not None else None
        )
        self._broken_by: RemoteGymError | None = None
        self._lane = LaneSlot(self.target)
        """Same host: requests go straight to the session's worker (the stream stays as control)."""
        self._lane_offer: tuple[str, bytes] = ("", b"")
        """The lane path and secret the server offered in its MakeResponse (empty: none)."""
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
            self.run(self._connect(), config.timeouts.connect + 1.0, "connecting")
        except BaseException:
            self._state = ConnState.CLOSED
            self._release()
            raise

    def __repr__(self) -> str:
        return f"Connection({self.target}, {self._state.name.lower()}, {self.path})"

    @property
    def path(self) -> str:
        """Which path requests take: ``"lane"`` (same host, straight to the worker) or ``"grpc"``."""
        return self._lane.path

    @property
    def driver(self) -> runtime.Driver:
        """The driver (event loop) this connection's gRPC objects live on."""
        return self._driver

    # -- event-loop side ---------------------------------------------------------------------

    async def _connect(self) -> None:
        self.server_info = await self._stream.open()

    def _roundtrip(self, data: bytes) -> Coroutine[Any, Any, bytes]:
        return self._stream.roundtrip(data)

    # -- caller side ---------------------------------------------------------------------------

    def run(self, coro: Any, timeout: float | None, what: str) -> Any:
        """Run a coroutine on this connection's event loop for the blocked caller (``what`` names it in errors).

        Raises:
            DeadlineExceededError: It took longer than ``timeout`` (it is cancelled).
            RemoteGymError: A gRPC failure it let through, translated.
        """
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
            ConnectionLostError: The stream broke and the session could not be resumed (now, or
                during an earlier call).
            DeadlineExceededError: No reply within ``timeout`` (the session is then broken).
            ServerError: The server answered with an error (the session stays usable, except
                after WorkerCrashedError and ServerShutdownError).
        """
        self.check_open()
        call_timeout = self.config.timeouts.call if timeout is None else timeout
        payload = self.prepare(request)
        if self._lane.lane is not None:
            try:
                lane_reply = self._lane.request(payload, call_timeout)
            except DeadlineExceededError as exc:
                self.mark_broken(exc)
                raise
            if lane_reply is not None:
                return self.parse_reply(lane_reply, request.WhichOneof("kind"))
        try:
            try:
                # The hot path: the driver's own deadline bounds the round trip (no timer task per call).
                reply = self.run(self._roundtrip(payload), call_timeout, what)
            except ConnectionLostError as lost:
                reply = self.run(
                    self.recover(payload, lost, call_timeout),
                    self.recovery_bound(call_timeout),
                    "resuming the session on",
                )
        except RemoteGymError as exc:  # the stream is out of step now: no later call may use it
            self.mark_broken(exc)
            raise
        return self.parse_reply(reply, request.WhichOneof("kind"))

    def prepare(self, request: pb.Request) -> bytes:
        """Number the request (every request but the first of a session) and serialize it."""
        kind = request.WhichOneof("kind")
        payload = request.SerializeToString() if kind == "make" else self._renumber(request)
        self._remaker.sent(kind, payload)
        return payload

    def _renumber(self, request: pb.Request) -> bytes:
        self._seq += 1
        request.seq = self._seq
        return request.SerializeToString()

    def _remade(self, reply: bytes) -> None:
        self._seq = 0
        self.parse_reply(reply, "make")

    async def exchange(self, payload: bytes, call_timeout: float | None) -> bytes:
        """Send a prepared request and return its reply, resuming the session if the connection drops.

        The coroutine form of :meth:`request` (without parsing the reply), for callers that drive
        several connections at once on one event loop.

        Raises:
            DeadlineExceededError: No reply within ``call_timeout``.
            ConnectionLostError: The connection dropped and the session could not be resumed.
            RemoteGymError: As :meth:`request`.
        """
        if self._lane.lane is not None:
            lane_reply = await self._lane.arequest(payload, call_timeout)
            if lane_reply is not None:
                return lane_reply
        try:
            return await self.exchange_once(payload, call_timeout)
        except ConnectionLostError as lost:
            return await self.recover(payload, lost, call_timeout)

    def recovery_bound(self, call_timeout: float | None) -> float | None:
        """Outer bound on :meth:`recover` (its own deadlines fire first): only a guard against a stuck loop."""
        if call_timeout is None:
            return None
        return (self.config.resume_s + RESUME_ATTEMPT_TIMEOUT_S + call_timeout) * 4 + 5.0

    async def recover(self, payload: bytes, lost: ConnectionLostError, call_timeout: float | None) -> bytes:
        """After a dropped connection: resume the session on a new connection and send ``payload`` again.

        Tries for up to ``ClientConfig.resume_s`` (see :func:`~remote_gym.client.resume.resume_and_resend`).

        Raises:
            ConnectionLostError: Resuming is off, the server no longer has the session (it ended,
                its resume window passed, or the server restarted), or no resume succeeded within
                ``ClientConfig.resume_s``.
            DeadlineExceededError: The re-sent request got no reply within ``call_timeout``.
        """
        budget = self.config.resume_s
        if not budget or not self._resume_token or not self._server_resume_window_s:
            raise lost
        remaker = self._remaker
        return await resume_and_resend(
            self._stream,
            payload,
            lost,
            session_id=self.session_id,
            resume_token=self._resume_token,
            budget=budget,
            call_timeout=call_timeout,
            remake=(
                (lambda: remaker.remake(self._stream, self._remade, self._renumber, call_timeout))
                if remaker.possible
                else None
            ),
        )

    async def exchange_once(self, payload: bytes, call_timeout: float | None) -> bytes:
        """One round trip on the current stream, bounded by ``call_timeout``; no resumption."""
        return await self._stream.bounded_roundtrip(payload, call_timeout)

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

    def parse_reply(self, reply: bytes, expected: str | None) -> pb.Response:
        """Decode the reply to a request of kind ``expected``; raise the server's error if it is one.

        A MakeResponse's session id and resume secret are noted, so that the session can be resumed.

        Raises:
            ServerError: The server answered with an error.
            ProtocolError: The reply is of another kind than the request (the stream is out of step).
        """
        response = pb.Response.FromString(reply)
        kind = response.WhichOneof("kind")
        if kind == "error":
            error = error_from_proto(response.error)
            if response.error.reason in _SESSION_ENDING_REASONS:
                self.mark_broken(error)
            raise error
        if kind != expected:
            mismatch = ProtocolError(f"{self.target} answered a {expected} request with a {kind} reply")
            self.mark_broken(mismatch)
            raise mismatch
        if kind == "reset":
            self._remaker.observed()
        elif kind == "make":
            made = response.make
            self.agreement = negotiate(
                this_release(),
                server_peer(made),
                we_are="this client",
                they_are=f"the server at {self.target}",
            )
            self.session_id, self._resume_token = made.session_id, made.resume_token
            self._server_resume_window_s = made.resume_window_s
            self._lane_offer = (made.lane_path, made.lane_secret)
            if made.lane_path and self.config.same_host_lane:
                self._lane.open(
                    made.lane_path, made.lane_secret, self.config.timeouts.connect, self.config.spin_us
                )
        return response

    def close(self) -> None:
        """End the session politely (CloseRequest), then close the stream and channel; idempotent, never raises."""
        if self._state is ConnState.CLOSED:
            return
        was_open = self._state is ConnState.OPEN and bool(self.session_id)
        self._state = ConnState.CLOSED
        self._lane.close()  # the CloseRequest goes through the stream: the server ends the session
        if was_open:
            with contextlib.suppress(Exception):
                payload = self.prepare(close_request())
                self.run(self._roundtrip(payload), 2.0, "closing the session on")
        self._release()

    def _release(self) -> None:
        self._lane.close()
        with contextlib.suppress(Exception):
            self._driver.run(self._stream.aclose(), 5.0)
        if self._state is ConnState.CLOSED and not self._driver_released:
            self._driver_released = True
            self._driver.release()
