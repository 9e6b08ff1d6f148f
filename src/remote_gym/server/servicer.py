"""The gRPC service: one session per stream, forwarding raw request bytes to the session's env."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import uuid
from typing import Any

import grpc

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.errors import (
    InvalidCallError,
    ServerBusyError,
    ServerShutdownError,
    SessionExpiredError,
    WorkerCrashedError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.config import ServerConfig
from remote_gym.server.handler import CreateSpec
from remote_gym.server.polling import PollPolicy
from remote_gym.server.pool import Worker, Zygote
from remote_gym.server.registry import Registry
from remote_gym.server.sequencer import error_bytes
from remote_gym.server.session import InlineSession, SessionInfo
from remote_gym.server.vector_handler import create_handler
from remote_gym.transport.spin import SpinningSelector
from remote_gym.transport.status import REASON_METADATA_KEY

logger = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RemoteGym"].full_name

_AUTORESET_MODES = {
    pb.AUTORESET_MODE_NEXT_STEP: "NEXT_STEP",
    pb.AUTORESET_MODE_SAME_STEP: "SAME_STEP",
    pb.AUTORESET_MODE_DISABLED: "DISABLED",
}


# A serialized Request holding CloseRequest: protobuf writes fields in field-number order, so the
# (empty) close field, number 7, comes first. Recognised without parsing: the hot path only forwards bytes.
_CLOSE_REQUEST = pb.Request(close=pb.CloseRequest()).SerializeToString()


class RemoteGymServicer:
    """Implements remote_gym.v1.RemoteGym on grpc.aio with raw-bytes requests on the hot path."""

    def __init__(
        self, config: ServerConfig, zygote: Zygote | None, selector: SpinningSelector | None = None
    ) -> None:
        self._config = config
        self._registry = Registry(config.environments)
        self._zygote = zygote
        self._sessions: dict[str, SessionInfo] = {}
        self._next_env_index = 0
        self._shutting_down = False
        self._background: set[asyncio.Future[Any]] = set()
        self._busy_sessions = 0
        """Sessions whose request is being answered now."""
        self._polling = PollPolicy(config.worker_spin_us)
        self._selector = selector
        """The event loop's selector: it polls for the next request of a session that is alone."""
        if selector is not None:
            selector.configure(self._polling.poll_us)
            selector.enabled = False

    def _take_env_indices(self, count: int) -> int:
        """Reserve ``count`` consecutive env indices (one per sub-env) and return the first."""
        first = self._next_env_index
        self._next_env_index += count
        return first

    @property
    def active_sessions(self) -> int:
        """Sessions open now."""
        return len(self._sessions)

    def begin_shutdown(self) -> None:
        """Refuse new sessions; end open ones with ServerShutdownError once their in-flight call is answered."""
        self._shutting_down = True
        for info in list(self._sessions.values()):
            self._end_session(info, "SHUTDOWN")
            if info.owner is None:  # detached, waiting for a resume that will not come
                if info.detached is not None:
                    info.detached.cancel()
                self._background_task(self._close_session(info))

    def _end_session(self, info: SessionInfo, why: str) -> None:
        # The stream stays open: the client's next request is answered with the reason as the call's
        # final status. (Ending the call while the client may be writing loses that status.)
        info.ending = info.ending or why

    async def _say_goodbye(self, context: grpc.aio.ServicerContext, info: SessionInfo) -> None:
        if info.ending == "SHUTDOWN":
            code, reason, text = grpc.StatusCode.UNAVAILABLE, "SHUTDOWN", "the server is shutting down"
        else:
            idle = self._config.session_idle_timeout_s
            code, reason, text = (
                grpc.StatusCode.NOT_FOUND,
                "SESSION",
                f"the session was idle for over {idle} s",
            )
        logger.info("session %s ended by the server: %s", info.session_id, text)
        await context.abort(code, text, trailing_metadata=((REASON_METADATA_KEY, reason),))

    def generic_handler(self) -> grpc.GenericRpcHandler:
        """Method handlers; the session stream passes bytes through undecoded (the worker decodes)."""
        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Session": grpc.stream_stream_rpc_method_handler(self.session),
                "GetServerInfo": grpc.unary_unary_rpc_method_handler(
                    self.get_server_info,
                    request_deserializer=pb.ServerInfoRequest.FromString,
                    response_serializer=pb.ServerInfo.SerializeToString,
                ),
            },
        )

    async def get_server_info(
        self, request: pb.ServerInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerInfo:
        """Describe the server without creating a session."""
        info = pb.ServerInfo(
            server_version=__version__,
            protocol_version=PROTOCOL_VERSION,
            active_sessions=self.active_sessions,
            max_sessions=self._config.max_sessions,
            hosting=self._config.hosting,
        )
        for i, entry in enumerate(self._registry.entries):
            info.environments.add(name=entry.name, allowed_kwargs=entry.allowed_list(), is_default=i == 0)
        return info

    async def session(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        """Run one session stream: make (or resume) the env, then answer requests in order."""
        first = await context.read()
        if first is grpc.aio.EOF:
            return
        try:
            info, reply, resumed = await self._attach(first, context.peer())
        except Exception as exc:
            if not isinstance(exc, (ServerBusyError, ServerShutdownError)):
                logger.info("session refused for %s: %s", context.peer(), exc)
            await context.write(error_bytes(exc))
            return
        owner = object()
        info.owner = owner
        # A session without an env (creation failed) is over once its reply is out. A new session
        # whose reply never reached the client cannot be resumed (the client lacks its token); a
        # resumed one can, again, even when the stream breaks while its reply is being written.
        ended = info.session is None or not resumed
        try:
            await context.write(reply)
            ended = info.session is None
            if not ended:
                ended = await self._serve(info, context)
        finally:
            if info.owner is owner:  # not taken over by a resumed stream meanwhile
                info.owner = None
                # A client that sent CloseRequest is done even if its stream then ended abruptly
                # (it cancels the call once the reply is in, which can beat the end of stream here).
                if ended or info.closing or info.ending or not self._config.resume_window_s:
                    await asyncio.shield(self._close_session(info))
                else:
                    self._detach(info)

    async def _serve(self, info: SessionInfo, context: grpc.aio.ServicerContext) -> bool:
        """Answer requests until the stream ends; True when the session is over, not just the stream."""
        session = info.session
        assert session is not None
        read = context.read
        write = context.write
        request = session.request
        lock = info.lock
        limit = self._config.max_message_bytes
        loop = asyncio.get_running_loop()
        idle_s = self._config.session_idle_timeout_s
        max_call_s = self._config.max_call_s if isinstance(session, Worker) else None
        poll_s = self._polling.poll_us * 1e-6
        selector = self._selector
        while True:
            expiry = loop.call_later(idle_s, self._expire, session, info) if idle_s else None
            try:
                data = await read()
            finally:
                if expiry is not None:
                    expiry.cancel()
            if data is grpc.aio.EOF:
                # A client that closes says so first (CloseRequest); an end of stream without it is
                # a broken connection (cut, or the client process died): keep the session for a resume.
                return info.closing
            if data.startswith(_CLOSE_REQUEST):
                info.closing = True
            if info.ending:
                await self._say_goodbye(context, info)
                return True
            killer = loop.call_later(max_call_s, self._kill_slow, session, info) if max_call_s else None
            try:
                async with lock:
                    info.busy = True
                    self._busy_sessions += 1
                    # Polling blocks the event loop and keeps a CPU busy: only for a session that
                    # has the server to itself.
                    alone = self._polling.alone(info) and self._busy_sessions == 1
                    if selector is not None:
                        selector.enabled = alone  # the loop polls for this session's next request
                    reply = await request(data, poll_s if alone else 0.0)
            except WorkerCrashedError as exc:  # the session cannot go on; tell the client why, then end it
                if info.slow:
                    exc = WorkerCrashedError(
                        f"the call took longer than the server's max_call_s ({max_call_s} s); "
                        "the worker was stopped",
                        exitcode=exc.exitcode,
                    )
                logger.warning("session %s: %s", info.session_id, exc)
                await write(error_bytes(exc))
                return True
            finally:
                if info.busy:
                    info.busy = False
                    self._busy_sessions -= 1
                if killer is not None:
                    killer.cancel()
            if len(reply) > limit:
                reply = error_bytes(
                    ServerBusyError(
                        f"the reply has {len(reply)} bytes, over the server's limit of {limit} bytes"
                    )
                )
            await write(reply)

    async def _attach(self, first: bytes, peer: str) -> tuple[SessionInfo, bytes, bool]:
        """Make a new session, or find the one a resuming client names.

        Returns:
            The session, the first reply, and whether the session was resumed.
        """
        try:
            request = pb.Request.FromString(first)
        except Exception as exc:
            raise InvalidCallError(f"malformed first request: {exc}") from exc
        if request.WhichOneof("kind") != "make":
            raise InvalidCallError("the first request of a session must be a MakeRequest")
        if request.make.resume_session_id:
            return (*self._resume(request.make, peer), True)
        session, info, reply = await self._open(request.make, peer)
        info.session = session
        if session is not None:
            info.token = secrets.token_hex(16)
            response = pb.Response.FromString(reply)
            response.make.resume_token = info.token
            response.make.resume_window_s = self._config.resume_window_s
            reply = response.SerializeToString()
        return info, reply, False

    def _resume(self, make: pb.MakeRequest, peer: str) -> tuple[SessionInfo, bytes]:
        if self._shutting_down:
            raise ServerShutdownError("the server is shutting down")
        info = self._sessions.get(make.resume_session_id)
        if info is None or info.session is None or not hmac.compare_digest(info.token, make.resume_token):
            raise SessionExpiredError(
                f"session {make.resume_session_id} cannot be resumed: it ended, or its resume window "
                f"({self._config.resume_window_s} s) passed, or the server restarted"
            )
        if info.detached is not None:
            info.detached.cancel()
            info.detached = None
        logger.info("session %s resumed (%s, was %s)", info.session_id, peer, info.peer)
        info.peer = peer
        response = pb.Response()
        response.make.protocol_version = PROTOCOL_VERSION
        response.make.server_version = __version__
        response.make.session_id = info.session_id
        response.make.resumed = True
        response.make.resume_window_s = self._config.resume_window_s
        return info, response.SerializeToString()

    def _detach(self, info: SessionInfo) -> None:
        """The stream broke: keep the session for the resume window, then end it."""
        window = self._config.resume_window_s
        logger.info("session %s lost its stream; kept %.1f s for a resume", info.session_id, window)
        info.detached = asyncio.get_running_loop().call_later(window, self._expire_detached, info)

    def _expire_detached(self, info: SessionInfo) -> None:
        info.detached = None
        if info.owner is None:
            self._background_task(self._close_session(info))

    async def _close_session(self, info: SessionInfo) -> None:
        if self._sessions.get(info.session_id) is info:
            del self._sessions[info.session_id]
        session, info.session = info.session, None
        if session is not None:
            logger.info("session %s closed (%s, %s)", info.session_id, info.env_name, info.peer)
            await session.stop()

    def _background_task(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _expire(self, session: Worker | InlineSession, info: SessionInfo) -> None:
        """Idle too long: free the env and its worker now; tell the client at its next request."""
        self._end_session(info, "SESSION")
        self._background_task(self._close_session(info))

    @staticmethod
    def _kill_slow(session: Worker | InlineSession, info: SessionInfo) -> None:
        info.slow = True
        session.kill()

    async def _open(
        self, make: pb.MakeRequest, peer: str
    ) -> tuple[Worker | InlineSession | None, SessionInfo, bytes]:
        if self._shutting_down:
            raise ServerShutdownError("the server is shutting down")
        if make.protocol_version != PROTOCOL_VERSION:
            raise InvalidCallError(
                f"the client speaks protocol version {make.protocol_version}; this server speaks {PROTOCOL_VERSION}"
            )
        limit = self._config.max_sessions
        if limit and len(self._sessions) >= limit:
            raise ServerBusyError(f"the server already has {limit} sessions open (its max_sessions)")
        if make.num_envs < 0:
            raise InvalidCallError(f"num_envs must be >= 0, got {make.num_envs}")
        if make.num_envs > self._config.max_envs_per_session:
            raise ServerBusyError(
                f"{make.num_envs} sub-environments asked for; this server allows at most "
                f"{self._config.max_envs_per_session} per session"
            )
        kwargs_bytes = len(make.kwargs_json.encode())
        if kwargs_bytes > self._config.max_kwargs_bytes:  # checked before parsing: JSON costs time and memory
            raise ServerBusyError(
                f"the environment kwargs take {kwargs_bytes} bytes of JSON, over this server's limit "
                f"of {self._config.max_kwargs_bytes} bytes (its max_kwargs_bytes)"
            )
        entry, kwargs = self._registry.resolve(make.env_name, make.kwargs_json)
        session_id = uuid.uuid4().hex[:12]
        spec = CreateSpec(
            env_name=entry.name,
            gym_id=entry.gym_id,
            entrypoint=entry.entrypoint,
            kwargs=kwargs,
            render_mode=make.render_mode or None,
            env_index=self._take_env_indices(max(make.num_envs, 1)),
            compress=self._config.compress and pb.COMPRESSION_ZSTD in make.accept_compression,
            session_id=session_id,
            num_envs=make.num_envs,
            autoreset_mode=_AUTORESET_MODES.get(make.autoreset_mode, "NEXT_STEP"),
            restart_on_failure=make.restart_on_failure,
            workers=self._config.workers_per_session,
            vectorization_mode=make.vectorization_mode or "sync",
            per_env_infos=make.per_env_infos,
        )
        info = SessionInfo(session_id, entry.name, peer)
        self._sessions[session_id] = info  # reserve the slot before any await
        try:
            session, reply = await self._start(spec)
        except BaseException:
            self._sessions.pop(session_id, None)
            raise
        logger.info("session %s opened (%s, %s, %s)", session_id, entry.name, self._config.hosting, peer)
        return session, info, reply

    async def _start(self, spec: CreateSpec) -> tuple[Worker | InlineSession | None, bytes]:
        if self._zygote is not None:
            worker = await self._zygote.spawn(spec.to_json())
            try:
                reply = await worker.first_reply()
            except BaseException:
                await worker.stop()
                raise
            if pb.Response.FromString(reply).WhichOneof("kind") != "make":
                await worker.stop()
                return None, reply
            return worker, reply
        loop = asyncio.get_running_loop()
        try:
            handler = await loop.run_in_executor(None, create_handler, spec)
        except Exception as exc:
            return None, error_bytes(exc)
        try:
            return InlineSession(handler), handler.describe().SerializeToString()
        except Exception as exc:
            handler.close()
            return None, error_bytes(exc)
