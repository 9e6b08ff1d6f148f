"""EnvServer: a grpc.aio server on its own event-loop thread, with start/stop/wait and a context manager."""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
import time
from types import TracebackType

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc

# isort: on
from grpc_health.v1.health import aio as health_aio

from remote_gym._constants import WORKER_STOP_TIMEOUT_S
from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.dial import HubDialer, start_dialers, stop_dialers
from remote_gym.server.hosting.host import WorkerStarter
from remote_gym.server.hosting.spawner import Spawner
from remote_gym.server.hosting.workers import Zygote
from remote_gym.server.listener import (
    add_health_service,
    add_port,
    bind_address,
    new_grpc_server,
    security_mode,
    start_health_listener,
)
from remote_gym.server.registry import preload_targets
from remote_gym.server.servicer import RemoteGymServicer
from remote_gym.server.thumbnails import Thumbnails
from remote_gym.server.web import start_endpoints
from remote_gym.transport.http import HttpEndpoint
from remote_gym.transport.spin import SpinningSelector, new_event_loop

logger = logging.getLogger(__name__)


class ServerState(enum.Enum):
    """Lifecycle of an EnvServer."""

    # Built, not yet listening.
    CREATED = 1
    # Listening and serving sessions.
    RUNNING = 2
    # stop() was called; nothing more will be served.
    STOPPED = 3


class EnvServer:
    """Hosts environments for remote clients.

    Example:
        >>> from remote_gym.server.registry import make_entry
        >>> config = ServerConfig(environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), port=0)
        >>> with EnvServer(config) as server:  # doctest: +SKIP
        ...     print(server.address)
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._state = ServerState.CREATED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._selector: SpinningSelector | None = None
        """The loop's selector, which polls for a lone session's next request (see RemoteGymServicer)."""
        self._thread: threading.Thread | None = None
        self._server: grpc.aio.Server | None = None
        self._servicer: RemoteGymServicer | None = None
        self._zygote: WorkerStarter | None = None
        self._health: health_aio.HealthServicer | None = None
        self._health_server: grpc.aio.Server | None = None
        """The plaintext listener of ``config.health_port`` (health service only)."""
        self._stopped = threading.Event()
        self._dialers: list[tuple[HubDialer, asyncio.Task[None]]] = []
        """Dialing hosts (config.dial): each hub's dialer and the task running it."""
        self.port: int = config.port
        """The bound port (the real one when the config asked for port 0)."""
        self.metrics_endpoint: HttpEndpoint | None = None
        """The Prometheus endpoint (``metrics_endpoint.port``, ``.url``) when ``config.metrics_port`` is set."""
        self.web_endpoint: HttpEndpoint | None = None
        """The monitoring page when ``config.web_port`` is set."""
        self.health_port: int | None = config.health_port
        """The bound health-only port, if any (the real one when the config asked for 0)."""

    def __repr__(self) -> str:
        names = ", ".join(e.name for e in self.config.environments)
        return f"EnvServer({names} @ {self.address}, {self._state.name.lower()})"

    @property
    def address(self) -> str:
        """``host:port`` clients connect to (loopback when bound to every interface)."""
        host = self.config.host
        if host in ("0.0.0.0", "", "::", "[::]"):
            host = "127.0.0.1"
        return bind_address(host, self.port)

    @property
    def active_sessions(self) -> int:
        """Sessions open now."""
        return self._servicer.active_sessions if self._servicer else 0

    def start(self) -> EnvServer:
        """Bind and start serving in a background thread; returns when the port is open.

        Raises:
            ConfigError: The address cannot be bound or the TLS files cannot be read.
        """
        if self._state is not ServerState.CREATED:
            raise ConfigError(
                f"the server is {self._state.name.lower()}; create a new EnvServer to start again"
            )
        self._loop, self._selector = new_event_loop(0.0)
        self._thread = threading.Thread(target=self._loop.run_forever, name="remote-gym-server", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._state = ServerState.STOPPED
            self._stopped.set()
            raise
        self._state = ServerState.RUNNING
        return self

    async def _start(self) -> None:
        config = self.config
        if config.hosting == "process":
            if config.worker_start == "spawn":
                starter: WorkerStarter = Spawner(
                    preload_targets(config.environments), config.warm_workers, config.lane_transport
                )
            else:
                starter = Zygote(config.lane_transport)
            self._zygote = starter
            await starter.start()
        self._servicer = RemoteGymServicer(config, self._zygote, self._selector)
        if config.dial:  # a dialing host listens nowhere: its sessions come over the links it opens
            self._dialers = start_dialers(config, self._servicer)
            self.port = 0
            self._start_monitoring()
            return
        server = new_grpc_server(config, self._servicer)
        self._health = await add_health_service(server)
        try:
            port = add_port(server, config)
        except ConfigError:
            if self._zygote is not None:
                await self._zygote.stop()
            raise
        self.port = port
        await server.start()
        self._server = server
        try:
            self._start_monitoring()
        except ConfigError:
            await server.stop(None)
            if self._zygote is not None:
                await self._zygote.stop()
            raise
        if config.health_port is not None:
            try:
                self._health_server, self.health_port = await start_health_listener(
                    self._health, config.host, config.health_port
                )
            except ConfigError:
                await server.stop(None)
                if self._zygote is not None:
                    await self._zygote.stop()
                raise
        logger.info(
            "remote-gym server listening on %s (%s, hosting=%s)",
            bind_address(config.host, config.port).replace(f":{config.port}", f":{port}"),
            security_mode(config),
            config.hosting,
        )

    def _start_monitoring(self) -> None:
        assert self._servicer is not None
        metrics = self._servicer.metrics
        if metrics is not None:
            thumbnails = Thumbnails(self._servicer.sessions, asyncio.get_running_loop())
            try:
                self.metrics_endpoint, self.web_endpoint = start_endpoints(self.config, metrics, thumbnails)
            except OSError as exc:
                raise ConfigError(f"cannot serve the monitoring endpoints: {exc}") from exc

    def stop(self, grace: float | None = None) -> None:
        """Stop serving: refuse new sessions, give open ones ``grace`` seconds, then end them all.

        Idempotent; always releases the port, the worker processes and the thread.
        """
        if self._state is not ServerState.RUNNING:
            self._state = ServerState.STOPPED
            self._stopped.set()
            return
        self._state = ServerState.STOPPED
        assert self._loop is not None and self._thread is not None
        try:
            asyncio.run_coroutine_threadsafe(self._stop(grace), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._stopped.set()

    async def _stop(self, grace: float | None) -> None:
        for endpoint in (self.metrics_endpoint, self.web_endpoint):
            if endpoint is not None:  # off the loop: a scrape in progress waits for the loop
                await asyncio.get_running_loop().run_in_executor(None, endpoint.stop)
        if self._health is not None:
            await self._health.enter_graceful_shutdown()  # probes see NOT_SERVING from now on
        if self._servicer is not None:
            self._servicer.begin_shutdown()
        await stop_dialers(self._dialers, grace)  # a dialing host's sessions get the grace period too
        if self._server is not None:
            await self._server.stop(grace)
        if self._health_server is not None:  # probes saw NOT_SERVING during the grace period
            await self._health_server.stop(None)
        # gRPC cancelled the calls still open after the grace period; let their cleanup (stopping
        # workers) finish, and only then cancel whatever is left, so the loop closes with no task pending.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=WORKER_STOP_TIMEOUT_S)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if self._zygote is not None:
            await self._zygote.stop()
        logger.info("remote-gym server on port %d stopped", self.port)

    def drain(self, seconds: float, grace: float | None = None) -> None:
        """Refuse new sessions (ServerDrainingError; health NOT_SERVING), let open ones run up to ``seconds``
        (or until none is left), then :meth:`stop` (``grace``): a session still open gets ServerDrainingError."""
        if self._state is ServerState.RUNNING and self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._begin_drain(), self._loop).result()
        logger.info("draining: no new sessions; %d open get up to %g s", self.active_sessions, seconds)
        deadline = time.monotonic() + seconds
        while self.active_sessions and time.monotonic() < deadline:
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0.0)))
        self.stop(grace)

    async def _begin_drain(self) -> None:
        if self._servicer is not None:
            self._servicer.begin_drain()
        if self._health is not None:
            await self._health.enter_graceful_shutdown()

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or ``timeout`` seconds pass); True if it stopped."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> EnvServer:
        if self._state is ServerState.CREATED:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(grace=1.0)
