"""Open a gRPC channel to a server and wait until the server answers, with clear connect errors."""

from __future__ import annotations

import asyncio
import time

import grpc

from remote_gym.capabilities import Agreement, Peer, negotiate, this_release
from remote_gym.client.config import ClientConfig
from remote_gym.errors import ConnectError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.options import channel_options
from remote_gym.transport.status import connect_error
from remote_gym.transport.tls import TLSConfig, is_loopback

SERVICE = pb.DESCRIPTOR.services_by_name["RemoteGym"].full_name
SESSION_METHOD = f"/{SERVICE}/Session"
INFO_METHOD = f"/{SERVICE}/GetServerInfo"

Metadata = tuple[tuple[str, str], ...] | None

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
# ... except this one: gRPC gave up on a slow TCP connect (a busy machine), not on a TLS handshake.
_TRANSIENT_MARKER = "tcp handshaker shutdown"


def split_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` for IPv6); a Unix socket ``unix:PATH`` is ``(address, 0)``."""
    if address.startswith("unix:"):
        return address, 0
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConnectError(f"address {address!r} is not host:port")
    return host.strip("[]"), int(port)


def target_of(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets; a ``unix:PATH`` host as it is."""
    if host.startswith("unix:"):
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def open_channel(host: str, port: int, tls: TLSConfig | None, config: ClientConfig) -> grpc.aio.Channel:
    """A new channel (a new connection) to ``host:port``: TLS, local credentials on loopback, else plaintext.

    Must be called on the event loop the channel will be used from.
    """
    target = target_of(host, port)
    options = channel_options(
        max_message_bytes=config.max_message_bytes, target_name=tls.server_name if tls else None
    )
    if tls is not None:
        return grpc.aio.secure_channel(target, tls.channel_credentials(), options=options)
    if is_loopback(host):
        kind = (
            grpc.LocalConnectionType.UDS if host.startswith("unix:") else grpc.LocalConnectionType.LOCAL_TCP
        )
        creds = grpc.local_channel_credentials(kind)
        return grpc.aio.secure_channel(target, creds, options=options)
    return grpc.aio.insecure_channel(target, options=options)


async def fetch_server_info(
    channel: grpc.aio.Channel,
    *,
    host: str,
    port: int,
    tls: TLSConfig | None,
    metadata: Metadata,
    timeout: float,
) -> pb.ServerInfo:
    """Ask the server to describe itself, retrying while it is not up yet, for up to ``timeout`` seconds.

    Raises:
        ConnectError: The server could not be reached (the message says which usual mistake it is).
        AuthenticationError: The server refused this client's certificate or token.
        ProtocolVersionError: The server speaks another protocol version.
    """
    info = channel.unary_unary(
        INFO_METHOD,
        request_serializer=pb.ServerInfoRequest.SerializeToString,
        response_deserializer=pb.ServerInfo.FromString,
    )
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        remaining = deadline - time.monotonic()
        try:
            server_info: pb.ServerInfo = await info(
                pb.ServerInfoRequest(), timeout=max(remaining, 0.01), metadata=metadata
            )
            break
        except grpc.aio.AioRpcError as exc:
            details = (exc.details() or "").lower()
            transient = exc.code() == grpc.StatusCode.UNAVAILABLE and (
                not any(m in details for m in _PERMANENT_MARKERS) or _TRANSIENT_MARKER in details
            )
            if not transient or time.monotonic() + delay >= deadline:
                target = target_of(host, port)
                raise connect_error(exc, target=target, host=host, port=port, tls=tls) from exc
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
    negotiate(
        this_release(),
        server_peer(server_info),
        we_are="this client",
        they_are=f"the server at {target_of(host, port)}",
    )
    return server_info


def server_peer(message: pb.ServerInfo | pb.MakeResponse) -> Peer:
    """What a server's description or make reply says it speaks (a 1.0.0 server: one version, no capability)."""
    return Peer.from_wire(
        message.server_version,
        message.protocol_version,
        message.min_protocol_version,
        message.max_protocol_version,
        message.capabilities,
    )


def agree_with_server(made: pb.MakeResponse, target: str) -> Agreement:
    """The version and capabilities a session uses, from its make reply.

    Raises:
        ProtocolVersionError: The server's window and this client's do not overlap.
    """
    return negotiate(
        this_release(), server_peer(made), we_are="this client", they_are=f"the server at {target}"
    )
