"""The plaintext health-only listener (``health_port``) that Kubernetes grpc probes use beside a TLS port."""

from __future__ import annotations

import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2

from remote_gym import RemoteEnvironment, ServerConfig
from remote_gym.errors import ConfigError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from remote_gym.server.servicer import SERVICE_NAME
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.certs import CertPaths
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig
from tests.support.health import health_status

pytestmark = pytest.mark.integration

ENTRY = make_entry("CartPole-v1", gym_id="CartPole-v1")


def test_health_port_answers_plaintext_beside_tls(tls_material: CertPaths) -> None:
    """A TLS server with a token answers plaintext health checks on health_port, and nothing else there."""
    tls = ServerTLSConfig(cert=tls_material.server_cert, key=tls_material.server_key)
    config = ServerConfig(
        environments=(ENTRY,), port=0, health_port=0, tls=tls, tokens=(TokenAuth("t0ken"),), hosting="inline"
    )
    with EnvServer(config) as server:
        assert server.health_port not in (None, 0, server.port)
        assert server.health_port is not None
        for service in ("", SERVICE_NAME):
            assert health_status(server.health_port, service) == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(f"127.0.0.1:{server.health_port}") as channel:
            info = channel.unary_unary(
                f"/{SERVICE_NAME}/GetServerInfo",
                request_serializer=pb.ServerInfoRequest.SerializeToString,
                response_deserializer=pb.ServerInfo.FromString,
            )
            with pytest.raises(grpc.RpcError) as refused:
                info(pb.ServerInfoRequest(), timeout=5)
            assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED
        with RemoteEnvironment(
            address=server.address, tls=TLSConfig(ca=tls_material.ca), token="t0ken"
        ) as env:
            assert env.reset(seed=0)[0].shape == (4,)
        health_port = server.health_port
    with pytest.raises(grpc.RpcError):
        health_status(health_port, "")


def test_busy_health_port_fails_the_start_and_frees_the_main_port() -> None:
    """A health_port already in use is a ConfigError, and the server's own port is released."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        config = ServerConfig(environments=(ENTRY,), port=0, health_port=busy, hosting="inline")
        server = EnvServer(config)
        with pytest.raises(ConfigError, match="health checks"):
            server.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))  # free again
