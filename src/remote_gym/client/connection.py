"""Connection: the one owner of a channel and its session stream; request/response with timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import warnings
from collections.abc import Coroutine, Sequence
from typing import Any

from remote_gym._constants import RESUME_ATTEMPT_TIMEOUT_S
from remote_gym.capabilities import Agreement
from remote_gym.client import runtime
from remote_gym.client.channel import agree_with_server, split_address, target_of
from remote_gym.client.config import ClientConfig
from remote_gym.client.lane_slot import LaneSlot, withhold_network_lane
from remote_gym.client.remake import Remaker
from remote_gym.client.replies import ends_session, read_reply
from remote_gym.client.resume import resume_and_resend
from remote_gym.client.stream import SessionStream
from remote_gym.codec.requests import close_request
from remote_gym.errors import (
    ConnectionLostError,
    DeadlineExceededError,
    EnvClosedError,
    InsecureChannelWarning,
    RemoteGymError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.status import foreign_error, map_errors
from remote_gym.transport.tls import TLSConfig, is_loopback

__all__ = ["ConnState", "Connection", "request_all", "split_address"]


class ConnState(enum.Enum):
    """Lifecycle of a Connection."""

    OPEN = 1  # the stream is open and in step with the server
    BROKEN = 2  # a call failed mid-flight (timeout, lost connection): the session cannot be trusted any more
    CLOSED = 3  # close() was called


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
        """A lane: requests go straight to the session's worker (the stream stays as control)."""
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
        """Which path requests take: ``"lane"`` / ``"network-lane"`` (straight to the worker) or ``"grpc"``."""
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
        with map_errors(f"{what} {self.target}", timeout=timeout):
            return self._driver.run(coro, timeout)

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
        payload = self._prepare(request)
        self._lane.reopen_if_due()
        if self._lane.lane is not None:
            try:
                lane_reply = self._lane.request(payload, call_timeout)
            except DeadlineExceededError as exc:
                self._mark_broken(exc)
                raise
            if lane_reply is not None:
                return self._parse_reply(lane_reply, request.WhichOneof("kind"))
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
            self._mark_broken(exc)
            raise
        return self._parse_reply(reply, request.WhichOneof("kind"))

    def _prepare(self, request: pb.Request) -> bytes:
        """Number the request (every request but the first of a session) and serialize it."""
        kind = request.WhichOneof("kind")
        if kind == "make":
            withhold_network_lane(request, self.config)
        payload = request.SerializeToString() if kind == "make" else self._renumber(request)
        self._remaker.sent(request, payload)
        return payload

    def _renumber(self, request: pb.Request) -> bytes:
        self._seq += 1
        request.seq = self._seq
        return request.SerializeToString()

    def _remade(self, reply: bytes) -> None:
        self._seq = 0
        self._parse_reply(reply, "make")

    async def _exchange(self, payload: bytes, call_timeout: float | None) -> bytes:
        """:meth:`request`'s coroutine form, without parsing the reply (for :func:`request_all`)."""
        self._lane.reopen_if_due()
        if self._lane.lane is not None:
            lane_reply = await self._lane.arequest(payload, call_timeout)
            if lane_reply is not None:
                return lane_reply
        try:
            return await self._stream.bounded_roundtrip(payload, call_timeout)
        except ConnectionLostError as lost:
            return await self.recover(payload, lost, call_timeout)

    def recovery_bound(self, call_timeout: float | None) -> float | None:
        """Outer bound on :meth:`recover` (its own deadlines fire first): only a guard against a stuck loop."""
        if call_timeout is None:
            return None
        return (self.config.resume_s + RESUME_ATTEMPT_TIMEOUT_S + call_timeout) * 4 + 5.0

    async def recover(self, payload: bytes, lost: ConnectionLostError, call_timeout: float | None) -> bytes:
        """After a dropped connection: resume the session on a new connection and send ``payload`` again.

        Raises:
            ConnectionLostError: Resuming is off, or failed (see :func:`~remote_gym.client.resume.resume_and_resend`).
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

    def check_open(self) -> None:
        """Raise unless the connection can carry a request."""
        if self._state is not ConnState.OPEN:
            if self._state is ConnState.CLOSED:
                raise EnvClosedError("the environment was closed")
            raise ConnectionLostError(f"the session with {self.target} is broken: {self._broken_by}")

    def _mark_broken(self, cause: RemoteGymError) -> None:
        """Record that the session can no longer be used, and release the stream."""
        if self._state is ConnState.OPEN:
            self._state = ConnState.BROKEN
            self._broken_by = cause
            self._release()

    def _parse_reply(self, reply: bytes, expected: str | None) -> pb.Response:
        """Decode the reply (:func:`~.replies.read_reply`), noting a MakeResponse's session and lane.

        Raises:
            ServerError: The server answered with an error.
            ProtocolError: The reply is of another kind than the request (the stream is out of step).
        """
        try:
            response = read_reply(reply, expected, self.target)
        except RemoteGymError as exc:
            if ends_session(exc):
                self._mark_broken(exc)
            raise
        kind = response.WhichOneof("kind")
        if kind == "reset":
            self._remaker.observed()
        elif kind == "make":
            made = response.make
            self.agreement = agree_with_server(made, self.target)
            self.session_id, self._resume_token = made.session_id, made.resume_token
            self._server_resume_window_s = made.resume_window_s
            self._lane_offer = (made.lane_path, made.lane_secret)
            self._lane.take_offer(made.lane_path, made.lane_secret, self.config, self.tls, self.host)
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
                payload = self._prepare(close_request())
                self.run(self._roundtrip(payload), 2.0, "closing the session on")
        self._release()

    def _release(self) -> None:
        self._lane.close()
        with contextlib.suppress(Exception):
            self._driver.run(self._stream.aclose(), 5.0)
        if self._state is ConnState.CLOSED and not self._driver_released:
            self._driver_released = True
            self._driver.release()


def request_all(
    connections: Sequence[Connection], requests: Sequence[pb.Request], *, timeout: float | None, what: str
) -> list[pb.Response | RemoteGymError]:
    """:meth:`Connection.request` for several connections on one driver at once: each one's response or error.

    (One connection alone takes :meth:`Connection.request` itself, which needs no gather machinery.)
    Each connection has its own deadline of ``timeout`` seconds (``config.timeouts.call`` when None);
    one that misses it, or whose stream breaks, is broken as :meth:`Connection.request` would leave it.

    Raises:
        DeadlineExceededError: The event loop got stuck past every connection's own deadline.
    """
    results: list[pb.Response | RemoteGymError | None] = [None] * len(connections)
    for i, connection in enumerate(connections):
        try:
            connection.check_open()
        except RemoteGymError as exc:
            results[i] = exc
    live = [i for i, result in enumerate(results) if result is None]
    if not live:
        return results  # type: ignore[return-value]
    call_timeout = timeout if timeout is not None else connections[0].config.timeouts.call
    payloads = [connections[i]._prepare(requests[i]) for i in live]  # numbered now, in order

    async def gather() -> list[Any]:
        calls = (connections[i]._exchange(p, call_timeout) for i, p in zip(live, payloads, strict=True))
        return await asyncio.gather(*calls, return_exceptions=True)

    first = connections[live[0]]
    try:  # each connection's own deadlines (call, resume) fire first: this one guards against a stuck loop
        replies = first.run(gather(), first.recovery_bound(call_timeout), f"{what} {len(live)} hosts, first")
    except DeadlineExceededError as exc:
        for i in live:
            connections[i]._mark_broken(exc)
        raise
    for i, reply in zip(live, replies, strict=True):
        connection = connections[i]
        if isinstance(reply, BaseException):  # the stream is out of step, or gone
            results[i] = error = foreign_error(reply, f"{what} {connection.target}", timeout=call_timeout)
            connection._mark_broken(error)
            continue
        try:
            results[i] = connection._parse_reply(reply, requests[i].WhichOneof("kind"))
        except RemoteGymError as exc:
            results[i] = exc
    return results  # type: ignore[return-value]
