"""TLS and mutual TLS with real certificates; wrong or missing credentials fail fast with typed errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from remote_gym import RemoteEnvironment, Timeouts, create_remote_environment_server
from remote_gym.errors import AuthenticationError, ConnectError, RemoteGymError, TransportError
from remote_gym.server.server import EnvServer
from remote_gym.transport.certs import CertPaths

pytestmark = pytest.mark.integration

FAST = Timeouts(connect=5.0, call=10.0)


@pytest.fixture(scope="module")
def tls_server(tls_material: CertPaths) -> Iterator[EnvServer]:
    """A TLS server (no client certificates) hosting CartPole-v1."""
    cert, key, _ca = tls_material.server_credentials_paths
    server = create_remote_environment_server(
        default_args={"env_id": "CartPole-v1"},
        url="127.0.0.1",
        port=0,
        server_credentials_paths=(cert, key),
        hosting="inline",
    )
    try:
        yield server
    finally:
        server.stop(0.5)


@pytest.fixture(scope="module")
def mtls_server(tls_material: CertPaths) -> Iterator[EnvServer]:
    """A mutual-TLS server (client certificates required) hosting CartPole-v1."""
    server = create_remote_environment_server(
        default_args={"env_id": "CartPole-v1"},
        url="127.0.0.1",
        port=0,
        server_credentials_paths=tls_material.server_credentials_paths,
        hosting="inline",
    )
    try:
        yield server
    finally:
        server.stop(0.5)


def _connect_fails_fast(
    port: int,
    creds: tuple[str | None, ...] | None,
    expected: type[RemoteGymError] = TransportError,
) -> RemoteGymError:
    start = time.monotonic()
    with pytest.raises(expected) as info:
        RemoteEnvironment(url="127.0.0.1", port=port, client_credentials_paths=creds, timeouts=FAST)
    assert time.monotonic() - start < 3.0, "a credential mismatch must not wait for the connect timeout"
    return info.value


def test_tls_session_works(tls_server: EnvServer, tls_material: CertPaths) -> None:
    """A client trusting the CA runs a session over TLS."""
    ca = str(tls_material.ca)
    with RemoteEnvironment(url="127.0.0.1", port=tls_server.port, client_credentials_paths=(ca,)) as env:
        env.reset(seed=0)
        assert env.step(0)[0].shape == (4,)


def test_mtls_session_works(mtls_server: EnvServer, tls_material: CertPaths) -> None:
    """A client with a certificate from the CA runs a session over mutual TLS."""
    creds = tls_material.client_credentials_paths
    with RemoteEnvironment(url="127.0.0.1", port=mtls_server.port, client_credentials_paths=creds) as env:
        env.reset(seed=0)
        assert env.step(1)[0].shape == (4,)


def test_mtls_without_client_cert_is_refused(mtls_server: EnvServer, tls_material: CertPaths) -> None:
    """A client without a certificate is refused quickly by a mutual-TLS server."""
    _connect_fails_fast(mtls_server.port, (str(tls_material.ca),), AuthenticationError)


def test_mtls_with_cert_from_other_ca_is_refused(
    mtls_server: EnvServer, tls_material: CertPaths, other_tls_material: CertPaths
) -> None:
    """A client certificate signed by another CA is refused quickly."""
    creds = (str(tls_material.ca), str(other_tls_material.client_cert), str(other_tls_material.client_key))
    _connect_fails_fast(mtls_server.port, creds, AuthenticationError)


def test_wrong_ca_is_refused(tls_server: EnvServer, other_tls_material: CertPaths) -> None:
    """A client trusting another CA fails quickly with ConnectError."""
    error = _connect_fails_fast(tls_server.port, (str(other_tls_material.ca),))
    assert isinstance(error, ConnectError)


def test_plaintext_client_to_tls_server_is_refused(tls_server: EnvServer) -> None:
    """A client without TLS talking to a TLS server fails quickly."""
    _connect_fails_fast(tls_server.port, None)


def test_tls_client_to_plaintext_server_is_refused(env_server: EnvServer, tls_material: CertPaths) -> None:
    """A TLS client talking to a server without TLS fails quickly (0.7.3 hung forever)."""
    _connect_fails_fast(env_server.port, (str(tls_material.ca),))


def test_nothing_listening_is_connect_error() -> None:
    """Connecting to a port where nothing listens raises ConnectError within the connect timeout."""
    start = time.monotonic()
    with pytest.raises(ConnectError):
        RemoteEnvironment(url="127.0.0.1", port=1, timeouts=Timeouts(connect=1.0))
    assert time.monotonic() - start < 3.0
