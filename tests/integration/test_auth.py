"""Token authentication: right, wrong and missing tokens; secrets never shown; health needs no token."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from remote_gym import RemoteEnvironment, ServerConfig
from remote_gym.errors import AuthenticationError, ConfigError
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.certs import CertPaths
from remote_gym.transport.tls import ServerTLSConfig

pytestmark = pytest.mark.integration

SECRET = "s3cret-token-value"


@pytest.fixture(scope="module")
def token_server() -> Iterator[EnvServer]:
    """A loopback server that requires a bearer token."""
    with running_server(hosting="inline", tokens=(TokenAuth(SECRET),)) as server:
        yield server


def test_right_token_is_accepted(token_server: EnvServer) -> None:
    """A client with the server's token runs a session."""
    with RemoteEnvironment(address=token_server.address, token=SECRET) as env:
        env.reset(seed=0)
        assert env.step(0)[0].shape == (4,)


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_wrong_or_missing_token_is_refused(token_server: EnvServer, token: str | None) -> None:
    """A client without the token, or with another one, gets AuthenticationError at connect."""
    with pytest.raises(AuthenticationError, match="bearer token"):
        RemoteEnvironment(address=token_server.address, token=token)


def test_token_never_shown(token_server: EnvServer) -> None:
    """The token appears in no repr: not the env's, not its spec's, not TokenAuth's."""
    with RemoteEnvironment(address=token_server.address, token=SECRET) as env:
        assert SECRET not in repr(env)
        assert SECRET not in repr(env.spec)
        assert SECRET not in str(env.spec)
    assert SECRET not in repr(TokenAuth(SECRET))


def test_spec_make_reuses_the_token(token_server: EnvServer) -> None:
    """env.spec.make() opens another authenticated session (check_env relies on it)."""
    with RemoteEnvironment(address=token_server.address, token=SECRET) as env:
        assert env.spec is not None
        other = env.spec.make()
        try:
            assert other.reset(seed=0)[0].shape == (4,)
        finally:
            other.close()


def test_health_check_needs_no_token(token_server: EnvServer) -> None:
    """The standard gRPC health service answers SERVING without a token."""
    creds = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    with grpc.secure_channel(token_server.address, creds) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service="remote_gym.v1.RemoteGym"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_token_over_plaintext_to_non_loopback_is_refused() -> None:
    """A server refuses to accept tokens on a plaintext non-loopback listener unless told to."""
    entry = make_entry("CartPole-v1", gym_id="CartPole-v1")
    with pytest.raises(ConfigError, match="plaintext"):
        ServerConfig(environments=(entry,), host="0.0.0.0", tokens=(TokenAuth(SECRET),))
    ServerConfig(
        environments=(entry,), host="0.0.0.0", tokens=(TokenAuth(SECRET),), allow_token_over_plaintext=True
    )


def test_token_with_tls(tls_material: CertPaths) -> None:
    """Tokens work together with TLS."""
    tls = ServerTLSConfig(cert=tls_material.server_cert, key=tls_material.server_key)
    with running_server(hosting="inline", tls=tls, tokens=(TokenAuth(SECRET),)) as server:
        creds = (str(tls_material.ca),)
        with RemoteEnvironment(
            url="127.0.0.1", port=server.port, client_credentials_paths=creds, token=SECRET
        ) as env:
            assert env.reset(seed=0)[0].shape == (4,)
        with pytest.raises(AuthenticationError):
            RemoteEnvironment(url="127.0.0.1", port=server.port, client_credentials_paths=creds)


def test_token_refusal_is_logged_with_the_peer(
    token_server: EnvServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused token is logged at INFO with the client's address, never with the token.

    The server's ledger logs it (logger ``remote_gym.server``); a bare interceptor logs it itself.
    """
    with (
        caplog.at_level(logging.INFO, logger="remote_gym"),
        pytest.raises(AuthenticationError),
    ):
        RemoteEnvironment(address=token_server.address, token="not-the-token")
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals, caplog.text
    assert "127.0.0.1" in refusals[0]
    assert "invalid bearer token" in refusals[0]
    assert "not-the-token" not in caplog.text
    assert SECRET not in caplog.text
