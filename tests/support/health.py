"""Ask a plaintext gRPC health endpoint for a service's status, as a kubelet grpc probe does."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def health_status(port: int, service: str) -> int:
    """The ``HealthCheckResponse.ServingStatus`` of ``service`` at ``127.0.0.1:port`` (plaintext)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return int(reply.status)
