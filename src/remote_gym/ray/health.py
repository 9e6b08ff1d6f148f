"""Ask a server's standard gRPC health service whether it serves, as Kubernetes probes do."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from remote_gym.client.connection import split_address
from remote_gym.transport.options import channel_options
from remote_gym.transport.tls import TLSConfig, is_loopback

_RETRY_S = 0.1


def _channel(address: str, tls: TLSConfig | None) -> grpc.Channel:
    host, _ = split_address(address)
    options = channel_options(target_name=tls.server_name if tls else None)
    if tls is not None:
        return grpc.secure_channel(address, tls.channel_credentials(), options=options)
    if is_loopback(host):
        return grpc.secure_channel(
            address, grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP), options=options
        )
    return grpc.insecure_channel(address, options=options)


def serving(address: str, tls: TLSConfig | None, *, timeout: float) -> str | None:
    """None once ``address`` answers SERVING within ``timeout`` seconds, else the last reason it did not."""
    deadline = time.monotonic() + timeout
    reason = "no answer"
    with _channel(address, tls) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return reason
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=min(left, 2.0))
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return None
                reason = f"health status {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
            except grpc.RpcError as exc:
                reason = f"{exc.code().name}: {exc.details()}"
            time.sleep(_RETRY_S)
