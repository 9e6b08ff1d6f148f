"""Hub: a server trainers reach, routing each session to an env host that dialed in."""

from __future__ import annotations

import asyncio
import logging
import threading
from types import TracebackType
from typing import Any

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc
# isort: on

from remote_gym._constants import DEFAULT_SERVER_SPIN_US
from remote_gym._version import __version__
from remote_gym.capabilities import this_release
from remote_gym.errors import ConfigError
from remote_gym.hub.auth import HUB_SERVICE, HubAuthInterceptor
from remote_gym.hub.config import HubConfig
from remote_gym.hub.host_stats import HOST_STATS_TIMEOUT_S, ask_hosts, join
from remote_gym.hub.hosts import HostTable
from remote_gym.hub.links import HostLinks
from remote_gym.hub.page import start_page
from remote_gym.hub.relay import Relay
from remote_gym.hub.stats import HubFigures, metrics_app
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuthInterceptor
from remote_gym.transport.frame_stream import HELLO_TIMEOUT_S
from remote_gym.transport.http import HttpEndpoint
from remote_gym.transport.options import server_options
from remote_gym.transport.spin import new_event_loop
from remote_gym.transport.status import REASON_METADATA_KEY
from remote_gym.transport.tls import is_loopback

logger = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RemoteGym"].full_name


class Hub:
    """Routes trainers' sessions to the env hosts attached to it (``remote-gym serve --dial``).

    Trainers use it as a server (``RemoteEnvironment``, ``RemoteVectorEnv``, ``server_info``); hosts
    dial it and never listen. The hub forwards each session's messages as bytes.

    Example:
        >>> from remote_gym.transport.auth import TokenAuth
        >>> with Hub(HubConfig(port=0, host_tokens=(TokenAuth("h0st"),))) as hub:  # doctest: +SKIP
        ...     print(hub.address)
    """

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.port = config.port
        """The bound port (the real one when the config asked for port 0)."""
        self.hosts = HostTable(config.host_grace_s)
        self._links = HostLinks(self.hosts, config.max_message_bytes)
        self._loop, selector = new_event_loop(0.0)
        if selector is not None:  # polls like a server's loop: only while one session is relayed
            selector.configure(DEFAULT_SERVER_SPIN_US)  # no polling with one usable CPU (wire.polling)
            selector.enabled = False
        self.figures = HubFigures()
        """The sessions the hub relays and its totals (GetStats, ``remote-gym top``)."""
        self._relay = Relay(self.hosts, self._links, config.max_message_bytes, selector, self.figures)
        self._started = False
        self._thread: threading.Thread | None = None
        self._server: grpc.aio.Server | None = None
        self._frames: asyncio.AbstractServer | None = None
        self.metrics_endpoint: HttpEndpoint | None = None
        """The ``/metrics`` endpoint, when the config asks for one."""
        self.web_endpoint: HttpEndpoint | None = None
        """The monitoring page, when the config asks for one (``web_port``)."""
        self._stopped = threading.Event()

    def __repr__(self) -> str:
        return f"Hub({self.address}, {len(self.hosts)} hosts)"

    @property
    def address(self) -> str:
        """``host:port`` trainers and hosts connect to (loopback when bound to every interface)."""
        host = self.config.host
        if host in ("0.0.0.0", "", "::", "[::]"):
            host = "127.0.0.1"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def start(self) -> Hub:
        """Bind and serve on a background thread; returns when the port is open.

        Raises:
            ConfigError: The address cannot be bound.
        """
        if self._started:
            raise ConfigError("this hub was started already; create a new Hub")
        self._started = True
        self._thread = threading.Thread(target=self._loop.run_forever, name="remote-gym-hub", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._stopped.set()
            raise
        return self

    async def _start(self) -> None:
        config = self.config

        def refused(who: str) -> Any:
            return lambda peer, why: logger.warning("refused a %s from %s: %s", who, peer, why)

        hosts = TokenAuthInterceptor(
            config.host_tokens, reason_key=REASON_METADATA_KEY, on_refused=refused("host")
        )
        trainers = (
            TokenAuthInterceptor(config.tokens, reason_key=REASON_METADATA_KEY, on_refused=refused("trainer"))
            if config.tokens
            else None
        )
        server = grpc.aio.server(
            options=server_options(max_message_bytes=config.max_message_bytes),
            interceptors=[HubAuthInterceptor(hosts, trainers)],
        )
        server.add_generic_rpc_handlers(self._handlers())
        bind = f"[{config.host}]:{config.port}" if ":" in config.host else f"{config.host}:{config.port}"
        try:
            if config.tls is not None:
                self.port = server.add_secure_port(bind, config.tls.server_credentials())
            elif is_loopback(config.host):
                local = grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
                self.port = server.add_secure_port(bind, local)
            else:
                self.port = server.add_insecure_port(bind)
        except RuntimeError as exc:
            raise ConfigError(f"cannot listen on {bind}: {exc}") from exc
        await server.start()
        self._server = server
        if config.frames:
            await self._listen_for_frames()
        logger.info("remote-gym hub listening on %s (frames on port %d)", self.address, self.frames_port)
        if config.metrics_port is not None:
            self.metrics_endpoint = HttpEndpoint(
                metrics_app(self.stats),
                config.metrics_host,
                config.metrics_port,
                tls=config.tls,
                tokens=config.tokens,
            )
            logger.info("hub metrics at %smetrics", self.metrics_endpoint.url)
        if config.web_port is not None:
            self.web_endpoint = start_page(config, self._gather_for_page, self.stats)
            logger.info("hub monitoring page at %s", self.web_endpoint.url)

    async def _listen_for_frames(self) -> None:
        """Open the frame listener dialing hosts carry sessions on (TLS as the gRPC port)."""
        config = self.config
        try:
            self._frames = await asyncio.get_running_loop().create_server(
                self._links.frame_stream,
                config.host.strip("[]"),
                config.frames_bind_port,
                ssl=config.tls.ssl_context() if config.tls is not None else None,
                ssl_handshake_timeout=HELLO_TIMEOUT_S if config.tls is not None else None,
            )
        except OSError as exc:
            assert self._server is not None
            await self._server.stop(None)
            raise ConfigError(f"cannot listen for frames on port {config.frames_bind_port}: {exc}") from exc
        self._links.frames_port = self._frames.sockets[0].getsockname()[1]

    @property
    def frames_port(self) -> int:
        """The frame listener's port (0 when the hub carries sessions on gRPC only)."""
        return self._links.frames_port

    def _handlers(self) -> tuple[grpc.GenericRpcHandler, ...]:
        # Session, Attach and Carry pass bytes (no (de)serializer): the hub decodes only what routes.
        trainer = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Session": grpc.stream_stream_rpc_method_handler(self._relay.session),
                "GetServerInfo": grpc.unary_unary_rpc_method_handler(
                    self._server_info,
                    request_deserializer=pb.ServerInfoRequest.FromString,
                    response_serializer=pb.ServerInfo.SerializeToString,
                ),
                "GetStats": grpc.unary_unary_rpc_method_handler(
                    self._stats,
                    request_deserializer=pb.StatsRequest.FromString,
                    response_serializer=pb.ServerStats.SerializeToString,
                ),
            },
        )
        hosts = grpc.method_handlers_generic_handler(
            HUB_SERVICE,
            {
                "Attach": grpc.stream_stream_rpc_method_handler(self._links.attach),
                "Carry": grpc.stream_stream_rpc_method_handler(self._links.carry),
            },
        )
        return trainer, hosts

    async def _server_info(
        self, request: pb.ServerInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerInfo:
        return self.info()

    async def _stats(self, request: pb.StatsRequest, context: grpc.aio.ServicerContext) -> pb.ServerStats:
        return await self._gather_stats()

    async def _gather_stats(self) -> pb.ServerStats:
        return (await self._gather())[0]

    async def _gather(self, with_text: bool = True) -> tuple[pb.ServerStats, list[pb.HubHostStats]]:
        stats = self.figures.stats(self.hosts)
        hosts = await ask_hosts(self.hosts)
        join(stats, hosts, with_text=with_text)
        return stats, hosts

    def _gather_for_page(self) -> tuple[pb.ServerStats, list[pb.HubHostStats]]:
        """The hub's stats without metrics text, and each host's own answer (from any thread but the hub's)."""
        future = asyncio.run_coroutine_threadsafe(self._gather(with_text=False), self._loop)
        return future.result(HOST_STATS_TIMEOUT_S + 5.0)

    def stats(self) -> pb.ServerStats:
        """What GetStats answers now: the hub's figures and each attached host's (from any thread but the hub's)."""
        future = asyncio.run_coroutine_threadsafe(self._gather_stats(), self._loop)
        return future.result(HOST_STATS_TIMEOUT_S + 5.0)

    def info(self) -> pb.ServerInfo:
        """The hub's description: every environment an attached host offers, and the hosts themselves."""
        ours = this_release()
        info = pb.ServerInfo(
            server_version=__version__,
            protocol_version=ours.min_version,
            min_protocol_version=ours.min_version,
            max_protocol_version=ours.max_version,
            capabilities=sorted(ours.capabilities),
            hosting="hub",
        )
        seen: set[str] = set()
        unlimited = False
        for host in self.hosts:
            info.hub_hosts.append(host.info())
            if host.link is None:
                continue
            info.active_sessions += host.active
            info.max_sessions += host.attach.capacity
            unlimited |= host.attach.capacity == 0
            for env in host.attach.environments:
                if env.name not in seen:
                    seen.add(env.name)
                    info.environments.add(name=env.name, allowed_kwargs=env.allowed_kwargs)
        if info.environments:
            info.environments[0].is_default = True
        if unlimited:
            info.max_sessions = 0
        return info

    def stop(self, grace: float | None = None) -> None:
        """Stop: end trainers' and hosts' streams (after ``grace`` seconds); idempotent."""
        if not self._started or self._stopped.is_set():
            if not self._loop.is_running():
                self._loop.close()
            self._stopped.set()
            return
        assert self._thread is not None
        try:
            for endpoint in (self.metrics_endpoint, self.web_endpoint):
                if endpoint is not None:
                    endpoint.stop()
            if self._server is not None:
                asyncio.run_coroutine_threadsafe(self._stop(grace), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._stopped.set()

    async def _stop(self, grace: float | None) -> None:
        if self._frames is not None:
            self._frames.close()  # open frame streams end with their relays, which the gRPC stop ends
        assert self._server is not None
        await self._server.stop(grace)
        await self._links.close_all()

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        """Block until the hub stops (or ``timeout`` seconds pass); True if it stopped."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> Hub:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(grace=0.5)
