"""The gRPC service: one session per stream, forwarding raw request bytes to the session's host."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym._constants import PROTOCOL_VERSION
from remote_gym._version import __version__
from remote_gym.codec.errors import error_to_proto
from remote_gym.codec.requests import is_close_request, request_kind
from remote_gym.errors import InvalidCallError, ServerBusyError, ServerShutdownError, WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.admission import Admission
from remote_gym.server.capacity import make_room
from remote_gym.server.config import ServerConfig
from remote_gym.server.endings import draining_refusal, ending_error
from remote_gym.server.handlers.foreign import parse_request
from remote_gym.server.handlers.rules import SessionRules
from remote_gym.server.handlers.sequencer import error_bytes
from remote_gym.server.hosting.host import WorkerStarter, start_host
from remote_gym.server.hosting.workers import WorkerProcess
from remote_gym.server.lanes import lane_for, lane_name
from remote_gym.server.ledger import Ledger, SessionCounts
from remote_gym.server.metrics import ServerMetrics
from remote_gym.server.sessions import EndReason, SessionRecord, SessionTable
from remote_gym.server.versions import agree, stamp_window
from remote_gym.transport.spin import SpinningSelector
from remote_gym.transport.status import REASON_METADATA_KEY
from remote_gym.wire.polling import AloneRule, spin_budget_s

logger = logging.getLogger(__name__)

_RESET_REPLY_TAG = pb.Response(reset=pb.ResetResponse()).SerializeToString()[:1]
"""First byte of a serialized reset reply (an error reply starts otherwise)."""

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RemoteGym"].full_name


class RemoteGymServicer:
    """Implements remote_gym.v1.RemoteGym on grpc.aio with raw-bytes requests on the hot path."""

    def __init__(
        self, config: ServerConfig, zygote: WorkerStarter | None, selector: SpinningSelector | None = None
    ) -> None:
        self._config = config
        self._admission = Admission(config)
        self._zygote = zygote
        self.sessions = SessionTable(config.resume_window_s, Ledger(config.hosting))
        self.metrics = ServerMetrics(self.sessions) if config.monitoring else None
        """Latency histogram and the figures' exposition; None when monitoring is off."""
        self._busy_sessions = 0
        """Sessions whose request is being answered now."""
        self._alone = AloneRule()
        self._poll_s = spin_budget_s(config.spin_us)
        """Seconds the server polls for a lone session's next request and its worker's reply."""
        if config.spin_us and not self._poll_s:
            logger.info("one CPU usable: the server and its workers do not poll for each other")
        self._selector = selector
        """The event loop's selector: it polls for the next request of a session that is alone."""
        if selector is not None:
            selector.configure(config.spin_us)
            selector.enabled = False

    @property
    def _offers_lane(self) -> bool:
        return self._config.same_host_lane and self._zygote is not None and self._zygote.lanes is not None

    @property
    def active_sessions(self) -> int:
        """Sessions open now."""
        return len(self.sessions)

    def begin_drain(self) -> None:
        """Take no new session (each is refused with ServerDrainingError); open ones go on until the shutdown."""
        self.sessions.draining = True

    def begin_shutdown(self) -> None:
        """Refuse new sessions; end open ones with ServerShutdownError once their in-flight call is answered."""
        self.sessions.begin_shutdown()

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
                "GetStats": grpc.unary_unary_rpc_method_handler(
                    self.get_stats,
                    request_deserializer=pb.StatsRequest.FromString,
                    response_serializer=pb.ServerStats.SerializeToString,
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
            same_host_lane=self._offers_lane,
            draining=self.sessions.draining,
            detached_sessions=len(self.sessions.detached()),
        )
        stamp_window(info)
        for i, entry in enumerate(self._admission.registry.entries):
            info.environments.add(
                name=entry.name,
                allowed_kwargs=entry.allowed_list(),
                is_default=i == 0,
                repo=entry.repo or "",
                commit=entry.commit or "",
                kind=entry.kind,
            )
        return info

    async def get_stats(self, request: pb.StatsRequest, context: grpc.aio.ServicerContext) -> pb.ServerStats:
        """The figures the metrics endpoint exposes, and a row per open session (see ServerMetrics)."""
        if self.metrics is None:
            return pb.ServerStats(server_version=__version__, monitoring=False)
        await self.metrics.collect_statuses()
        return self.metrics.stats(self.metrics.snapshot())

    async def session(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        """Run one session stream: make (or resume) the env, then answer requests in order."""
        first = await context.read()
        if first is grpc.aio.EOF:
            return
        try:
            record, reply, resumed = await self._attach(
                first, context.peer(), getattr(context, "hub_lane", None)
            )
        except Exception as exc:
            quiet = isinstance(exc, (ServerBusyError, ServerShutdownError))
            self.sessions.ledger.refused(error_to_proto(exc).reason, context.peer(), str(exc), quiet=quiet)
            await context.write(error_bytes(exc))
            return
        owner = object()
        self.sessions.attach(record, owner)
        # A session without an env (creation failed) is over once its reply is out. A new session
        # whose reply never reached the client cannot be resumed (the client lacks its token); a
        # resumed one can, again, even when the stream breaks while its reply is being written.
        reason: EndReason | None = EndReason.CREATE_FAILED if record.host is None else None
        if not resumed and reason is None:
            reason = EndReason.STREAM_LOST
        try:
            await context.write(reply)
            reason = EndReason.CREATE_FAILED if record.host is None else None
            if reason is None:
                reason = await self._serve(record, context)
        finally:
            await self.sessions.stream_ended(record, owner, reason)

    async def _serve(self, record: SessionRecord, context: grpc.aio.ServicerContext) -> EndReason | None:
        """Answer requests until the stream ends; why the session is over, or None if only the stream is."""
        host = record.host
        assert host is not None
        read = context.read
        write = context.write
        request = host.request
        lock = record.lock
        loop = asyncio.get_running_loop()
        idle_s = self._config.session_idle_timeout_s
        poll_s = self._poll_s
        selector = self._selector
        counts = record.counts
        clock = time.perf_counter
        while True:
            expiry = loop.call_later(idle_s, self._idle, record, idle_s) if idle_s else None
            try:
                data = await read()
            finally:
                if expiry is not None:
                    expiry.cancel()
            if data is grpc.aio.EOF:
                # A client that closes says so first (CloseRequest); an end of stream without it is
                # a broken connection (cut, or the client process died): keep the session for a resume.
                return None
            if is_close_request(data):
                record.closing = True
            if record.ending is not None:
                await self._say_goodbye(context, record)
                return record.ending
            try:
                async with lock:
                    record.busy = True
                    self._busy_sessions += 1
                    # Polling blocks the event loop and keeps a CPU busy: only for a session that
                    # has the server to itself.
                    alone = self._alone.alone(record) and self._busy_sessions == 1
                    if selector is not None:
                        selector.enabled = alone  # the loop polls for this session's next request
                    start = clock()
                    reply = await request(data, poll_s if alone else 0.0)
                    if reply[:1] == _RESET_REPLY_TAG:
                        record.reset_seen = True
                    if counts is not None:
                        counts.record(request_kind(data), len(data), len(reply), clock() - start)
            except WorkerCrashedError as exc:  # the session cannot go on; tell the client why, then end it
                self.sessions.ledger.worker_crashed(record.session_id, record.env_name, str(exc))
                await write(error_bytes(exc))
                return EndReason.WORKER_CRASHED
            finally:
                if record.busy:
                    record.busy = False
                    self._busy_sessions -= 1
            await write(reply)  # held to the message limit by the session's rules

    async def _say_goodbye(self, context: grpc.aio.ServicerContext, record: SessionRecord) -> None:
        # The stream stayed open until now: the client's request is answered with the reason as the
        # call's final status. (Ending the call while the client may be writing loses that status.)
        exc = ending_error(record, self._config.session_idle_timeout_s)
        logger.info("session %s ended by the server: %s", record.session_id, exc)
        code = grpc.StatusCode[exc.code]
        await context.abort(code, str(exc), trailing_metadata=((REASON_METADATA_KEY, exc.reason),))

    async def _attach(
        self, first: bytes, peer: str, hub_lane: dict[str, Any] | None = None
    ) -> tuple[SessionRecord, bytes, bool]:
        """Make a new session, or find the one a resuming client names.

        Returns:
            The session, the first reply, and whether the session was resumed.
        """
        self._admission.check_first_size(len(first))  # before parsing: a huge one costs the loop time
        request = parse_request(first, what="first request")
        if request.WhichOneof("kind") != "make":
            raise InvalidCallError("the first request of a session must be a MakeRequest")
        make = request.make
        agreement = agree(make, peer)
        if make.resume_session_id:
            record = self.sessions.resume(
                make.resume_session_id, make.resume_token, peer, agreement.capabilities
            )
            if hub_lane is not None and isinstance(record.host, WorkerProcess):
                record.host.redial(hub_lane)  # its worker's lane to the hub broke with the old link
            response = pb.Response()
            response.make.protocol_version = PROTOCOL_VERSION
            response.make.server_version = __version__
            response.make.session_id = record.session_id
            response.make.resumed = True
            response.make.resume_window_s = self._config.resume_window_s
            stamp_window(response.make)
            reply = response.SerializeToString()
        else:
            if self.sessions.draining:
                raise draining_refusal(agreement.capabilities)
            make_room(self.sessions, self._config.max_sessions, self._config.resume_window_s)
            record, reply = await self._open(make, peer, agreement.capabilities, hub_lane)
        record.capabilities = agreement.capabilities
        return record, reply, bool(make.resume_session_id)

    async def _open(
        self, make: pb.MakeRequest, peer: str, capabilities: frozenset[str], hub_lane: dict[str, Any] | None
    ) -> tuple[SessionRecord, bytes]:
        session_id = uuid.uuid4().hex[:12]
        spec = self._admission.spec_for(
            make,
            session_id=session_id,
            open_sessions=len(self.sessions),
            shutting_down=self.sessions.shutting_down,
        )
        record = SessionRecord(
            session_id, spec.env_name, peer, num_envs=spec.num_envs, render_mode=spec.render_mode
        )
        self.sessions.reserve(record)  # counts against max_sessions before any await
        lanes = self._zygote.lanes if self._zygote is not None else None
        lane = lane_for(self._config, lanes, session_id, peer, capabilities, hub_lane)
        try:
            rules = SessionRules(
                max_reply_bytes=self._config.max_message_bytes,
                max_call_s=self._config.max_call_s,
                deadline_thread=self._config.worker_start == "spawn",
            )
            host, reply = await start_host(spec, self._zygote, rules, lane)
        except BaseException:
            self.sessions.release(record)
            raise
        if host is None:
            self.sessions.release(record)
            return record, reply
        response = pb.Response.FromString(reply)
        stamp_window(response.make)
        response.make.resume_token = self.sessions.opened(record, host)
        response.make.resume_window_s = self._config.resume_window_s
        if lane is not None and lane.dial is not None:
            pass  # the worker opens it to the hub; the trainer is not told
        elif lane is not None and (response.make.lane_path or not lane.path.endswith(":0")):
            # A TCP lane's port is the worker's choice (none: it could not listen, so no lane).
            response.make.lane_path = response.make.lane_path or lane.path
            response.make.lane_secret = bytes.fromhex(lane.secret)
        else:
            lane = None
        if self.metrics is not None:
            record.counts = SessionCounts(
                self.metrics.latency_observers,
                lane_offered=lane is not None,
                lane_name=lane_name(lane),
            )
        self.sessions.ledger.session_opened(session_id, spec.env_name, peer)
        return record, response.SerializeToString()

    def _idle(self, record: SessionRecord, idle_s: float) -> None:
        """No request on the stream for ``idle_s``: end the session, unless it is busy on its lane."""
        host = record.host
        if isinstance(host, WorkerProcess) and host.lane:
            self._check_lane_idle(record, host, idle_s)
        else:
            self.sessions.end(record, EndReason.IDLE)

    def _check_lane_idle(self, record: SessionRecord, host: WorkerProcess, idle_s: float) -> None:
        if host.lane and record.host is host and record.ending is None:
            self.sessions.background(self._lane_idle(record, host, idle_s))

    async def _lane_idle(self, record: SessionRecord, host: WorkerProcess, idle_s: float) -> None:
        """Ask the worker how long it has been without requests (on any path); end or look again later."""
        try:
            quiet = (await host.status()).quiet_s or 0.0
        except WorkerCrashedError:
            return  # the session ends through its next request
        if not host.lane or record.host is not host or record.ending is not None:
            return
        if quiet >= idle_s:
            self.sessions.end(record, EndReason.IDLE)
        else:
            asyncio.get_running_loop().call_later(idle_s - quiet, self._check_lane_idle, record, host, idle_s)
