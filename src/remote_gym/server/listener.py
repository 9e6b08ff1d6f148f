"""The listening side of an EnvServer: bind addresses, the gRPC server with its credentials, the health port."""

from __future__ import annotations

# isort: off
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  (before grpc: see grpc_init)
import grpc

# isort: on
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.servicer import SERVICE_NAME, RemoteGymServicer
from remote_gym.transport.auth import TokenAuthInterceptor
from remote_gym.transport.options import server_options
from remote_gym.transport.status import REASON_METADATA_KEY
from remote_gym.transport.tls import is_loopback


def bind_address(host: str, port: int) -> str:
    """The gRPC address of ``host`` and ``port`` (an IPv6 host in brackets; a ``unix:`` path as it is)."""
    if host.startswith("unix:"):  # a Unix socket: the path is the address
        return host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def new_grpc_server(config: ServerConfig, servicer: RemoteGymServicer) -> grpc.aio.Server:
    """A gRPC server for ``servicer``, checking ``config.tokens`` if any (not yet bound or started)."""
    ledger = servicer.sessions.ledger
    interceptors = (
        [
            TokenAuthInterceptor(
                config.tokens,
                reason_key=REASON_METADATA_KEY,
                on_refused=lambda peer, why: ledger.refused("UNAUTHENTICATED", peer, why),
            )
        ]
        if config.tokens
        else []
    )
    server = grpc.aio.server(
        options=server_options(max_message_bytes=config.max_message_bytes), interceptors=interceptors
    )
    server.add_generic_rpc_handlers((servicer.generic_handler(),))
    return server


async def add_health_service(server: grpc.aio.Server) -> health_aio.HealthServicer:
    """Serve the standard gRPC health service on ``server``, reporting SERVING for remote-gym; returned."""
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for service in ("", SERVICE_NAME):
        await health.set(service, health_pb2.HealthCheckResponse.SERVING)
    return health


def add_port(server: grpc.aio.Server, config: ServerConfig) -> int:
    """Bind ``server`` to ``config``'s host and port: TLS if configured, else local credentials on a
    loopback host, else plaintext. Returns the bound port.

    Raises:
        ConfigError: The address cannot be bound.
    """
    bind = bind_address(config.host, config.port)
    try:
        if config.tls is not None:
            port: int = server.add_secure_port(bind, config.tls.server_credentials())
        elif is_loopback(config.host):
            unix = config.host.startswith("unix:")
            kind = grpc.LocalConnectionType.UDS if unix else grpc.LocalConnectionType.LOCAL_TCP
            local = grpc.local_server_credentials(kind)
            port = server.add_secure_port(bind, local)
        else:
            port = server.add_insecure_port(bind)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {bind}: {exc}") from exc
    return port


async def start_health_listener(
    health: health_aio.HealthServicer, host: str, port: int
) -> tuple[grpc.aio.Server, int]:
    """Serve ``health`` alone, in plaintext, on ``host`` and ``port``: the started server and its bound port.

    Kubernetes' grpc probes speak plaintext only: this listener serves nothing but health.

    Raises:
        ConfigError: The address cannot be bound.
    """
    listener = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health, listener)
    bind = bind_address(host, port)
    try:
        bound: int = listener.add_insecure_port(bind)
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen for health checks on {bind}: {exc}") from exc
    await listener.start()
    return listener, bound


def security_mode(config: ServerConfig) -> str:
    """How clients' connections are secured, for the log: TLS, mutual TLS, local only, or plaintext."""
    if config.tls is not None:
        return "mutual TLS" if config.tls.mutual else "TLS"
    return "local connections only" if is_loopback(config.host) else "plaintext"
