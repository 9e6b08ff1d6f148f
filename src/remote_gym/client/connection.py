"""Connection: the one owner of a channel and its session stream; request/response with timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import warnings
from collections.abc import Coroutine
from typing import Any

import grpc

from remote_gym._constants import (
    RESUME_ATTEMPT_TIMEOUT_S,
    RESUME_BACKOFF_S,
    RESUME_PROBE_S,
)
from remote_gym.client import runtime
from remote_gym.client.channel import split_address, target_of
from remote_gym.client.config import ClientConfig
from remote_gym.client.stream import SessionGone, SessionStream
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

logger = logging.getLogger(__name__)

# Error reasons after which the server has ended the session.
_SESSION_ENDING_REASONS = frozenset({"WORKER_CRASHED", "SHUTDOWN"})
_MAX_LOSSES_PER_REQUEST = 100
"""Connections one request may lose right after resuming before the client gives up on the session."""


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
        self._state = ConnState.OPEN
        self._stream = SessionStream(
            host, port, tls=tls, config=config, metadata=auth.metadata() if auth is not None else None
        )
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
            self.run(self._connect(), config.timeouts.connect + 1.0, "connecting")
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
        if request.WhichOneof("kind") != "make":
            self._seq += 1
            request.seq = self._seq
        return request.SerializeToString()

    async def exchange(self, payload: bytes, call_timeout: float | None) -> bytes:
        """Send a prepared request and return its reply, resuming the session if the connection drops.

        The coroutine form of :meth:`request` (without parsing the reply), for callers that drive
        several connections at once on one event loop.

        Raises:
            DeadlineExceededError: No reply within ``call_timeout``.
            ConnectionLostError: The connection dropped and the session could not be resumed.
            RemoteGymError: As :meth:`request`.
        """
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

        The only place that retries. The server answers a request it already applied from its
        record, so nothing runs twice, whatever the moment the connection dropped. Attempts take at
        most ``RESUME_ATTEMPT_TIMEOUT_S`` each, on a new connection each time, with a doubling pause
        between them, for up to ``ClientConfig.resume_s``; a connection that drops again after a
        successful resume starts a new budget.

        Raises:
            ConnectionLostError: Resuming is off, the server no longer has the session (it ended,
                its resume window passed, or the server restarted), or no resume succeeded within
                ``ClientConfig.resume_s``.
            DeadlineExceededError: The re-sent request got no reply within ``call_timeout``.
        """
        budget = self.config.resume_s
        if not budget or not self._resume_token or not self._server_resume_window_s:
            raise lost
        logger.info("connection to %s lost (%s); resuming session %s", self.target, lost, self.session_id)
        deadline = time.monotonic() + budget
        delay, last, losses = RESUME_BACKOFF_S[0], str(lost), 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectionLostError(
                    f"the connection to {self.target} dropped and the session could not be resumed "
                    f"within {budget} s (last error: {last})"
                ) from lost
            try:
                await asyncio.wait_for(
                    self._stream.reattach(self.session_id, self._resume_token),
                    min(RESUME_ATTEMPT_TIMEOUT_S, remaining),
                )
            except SessionGone as gone:
                raise ConnectionLostError(
                    f"the session with {self.target} cannot go on: {gone.error}"
                ) from gone.error
            except (asyncio.TimeoutError, ConnectionLostError, OSError, grpc.RpcError) as exc:
                last = _describe(exc)
                logger.debug("resuming session %s on %s failed: %s", self.session_id, self.target, last)
                await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
                delay = min(delay * 2, RESUME_BACKOFF_S[1])
                continue
            logger.info("session %s resumed on %s", self.session_id, self.target)
            try:
                return await self._probed_roundtrip(payload, call_timeout)
            except ConnectionLostError as again:  # dropped again right after the resume: still resumable
                logger.debug("session %s lost its connection again: %s", self.session_id, again)
                losses += 1
                if losses >= _MAX_LOSSES_PER_REQUEST:
                    raise
                last = str(again)
                deadline = time.monotonic() + budget
                delay = RESUME_BACKOFF_S[0]

    async def exchange_once(self, payload: bytes, call_timeout: float | None) -> bytes:
        """One round trip on the current stream, bounded by ``call_timeout``; no resumption."""
        try:
            if call_timeout is None:
                return await self._roundtrip(payload)
            return await asyncio.wait_for(self._roundtrip(payload), call_timeout)
        except asyncio.TimeoutError as exc:
            raise DeadlineExceededError(
                f"request to {self.target} took longer than {call_timeout} s"
            ) from exc

    async def _probed_roundtrip(self, payload: bytes, call_timeout: float | None) -> bytes:
        """:meth:`exchange_once`, probing the connection every ``RESUME_PROBE_S`` while the reply takes long.

        A connection cut right after a resume is then noticed within that, instead of at the next
        keepalive ping (see :meth:`SessionStream.probe`).
        """
        task = asyncio.ensure_future(self.exchange_once(payload, call_timeout))
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=RESUME_PROBE_S)
                if done:
                    return task.result()
                await self._stream.probe(RESUME_PROBE_S)
        finally:
            task.cancel()

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
                payload = self.prepare(close_request())
                self.run(self._roundtrip(payload), 2.0, "closing the session on")
        self._release()

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self._driver.run(self._stream.aclose(), 5.0)
        if self._state is ConnState.CLOSED and not self._driver_released:
            self._driver_released = True
            self._driver.release()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__
