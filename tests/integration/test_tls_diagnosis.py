"""A failed TLS or mTLS connection says which of the usual mistakes it is, with real certificates."""

from __future__ import annotations

import pathlib
import socket
import time
from collections.abc import Iterator

import pytest

from remote_gym import RemoteEnvironment, Timeouts
from remote_gym.errors import AuthenticationError, ConnectError, RemoteGymError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from remote_gym.transport.certs import CertPaths, generate_dev_certs
from remote_gym.transport.diagnose import Failure, diagnose_connect_failure, explain_connect_failure
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig

pytestmark = pytest.mark.integration

FAST = Timeouts(connect=5.0, call=10.0)


@pytest.fixture(scope="module")
def tls_server(tls_material: CertPaths) -> Iterator[EnvServer]:
    """A TLS server (no client certificates)."""
    tls = ServerTLSConfig(cert=tls_material.server_cert, key=tls_material.server_key)
    with running_server(hosting="inline", tls=tls, grace=0.2) as server:
        yield server


@pytest.fixture(scope="module")
def mtls_server(tls_material: CertPaths) -> Iterator[EnvServer]:
    """A mutual-TLS server: client certificates signed by the test CA are required."""
    tls = ServerTLSConfig(
        cert=tls_material.server_cert, key=tls_material.server_key, client_ca=tls_material.ca
    )
    with running_server(hosting="inline", tls=tls, grace=0.2) as server:
        yield server


@pytest.fixture(scope="module")
def localhost_only(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    """Certificates whose server certificate names localhost only (no 127.0.0.1)."""
    return generate_dev_certs(
        tmp_path_factory.mktemp("localhost-only"), hostnames=["localhost"], ip_addresses=[]
    )


@pytest.fixture(scope="module")
def localhost_only_server(localhost_only: CertPaths) -> Iterator[EnvServer]:
    """A TLS server whose certificate is not valid for 127.0.0.1."""
    tls = ServerTLSConfig(cert=localhost_only.server_cert, key=localhost_only.server_key)
    with running_server(hosting="inline", tls=tls, grace=0.2) as server:
        yield server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failure(port: int, tls: TLSConfig | None, expected: type[RemoteGymError] = ConnectError) -> str:
    start = time.monotonic()
    with pytest.raises(expected) as info:
        RemoteEnvironment(url="127.0.0.1", port=port, tls=tls, timeouts=FAST)
    assert time.monotonic() - start < 4.0, "diagnosing must not wait for the connect timeout"
    return str(info.value)


def test_wrong_ca_says_the_server_is_not_trusted(
    tls_server: EnvServer, tls_material: CertPaths, other_tls_material: CertPaths
) -> None:
    """Trusting another CA names that CA, its file, and who issued the server's certificate."""
    message = _failure(tls_server.port, TLSConfig(ca=other_tls_material.ca))
    assert "not trusted by the CA 'unrelated test CA'" in message
    assert str(other_tls_material.ca) in message
    assert "issued by 'remote-gym development CA'" in message


def test_hostname_not_in_certificate_lists_the_names_it_holds(
    localhost_only_server: EnvServer, localhost_only: CertPaths
) -> None:
    """Connecting by an address the certificate does not name lists the names it does hold."""
    message = _failure(localhost_only_server.port, TLSConfig(ca=localhost_only.ca))
    assert "not valid for '127.0.0.1'" in message
    assert "(it holds: localhost)" in message
    assert "--server-name" in message


def test_server_name_override_fixes_the_hostname_mismatch(
    localhost_only_server: EnvServer, localhost_only: CertPaths
) -> None:
    """Verifying against a name the certificate holds (server_name) connects."""
    tls = TLSConfig(ca=localhost_only.ca, server_name="localhost")
    with RemoteEnvironment(url="127.0.0.1", port=localhost_only_server.port, tls=tls, timeouts=FAST) as env:
        env.reset(seed=0)


def test_missing_client_certificate_is_an_authentication_error(
    mtls_server: EnvServer, tls_material: CertPaths
) -> None:
    """A mutual-TLS server refusing a client without a certificate says a client certificate is required."""
    message = _failure(mtls_server.port, TLSConfig(ca=tls_material.ca), AuthenticationError)
    assert "requires a client certificate (mutual TLS)" in message
    assert "client.pem" in message


def test_rejected_client_certificate_is_an_authentication_error(
    mtls_server: EnvServer, tls_material: CertPaths, other_tls_material: CertPaths
) -> None:
    """A client certificate from another CA is reported as rejected, naming the file and its issuer."""
    tls = TLSConfig(
        ca=tls_material.ca, cert=other_tls_material.client_cert, key=other_tls_material.client_key
    )
    message = _failure(mtls_server.port, tls, AuthenticationError)
    assert f"rejected the client certificate {other_tls_material.client_cert}" in message
    assert "issued by 'unrelated test CA'" in message


def test_plaintext_client_to_tls_server_says_the_server_uses_tls(tls_server: EnvServer) -> None:
    """A client without TLS is told the server uses TLS and to pass the CA."""
    message = _failure(tls_server.port, None)
    assert "uses TLS but this client connected without it" in message
    assert "--ca ca.pem" in message


def test_plaintext_client_to_mtls_server_also_asks_for_a_client_certificate(mtls_server: EnvServer) -> None:
    """A client without TLS talking to a mutual-TLS server is told it needs a client certificate too."""
    message = _failure(mtls_server.port, None)
    assert "client certificate (mutual TLS)" in message


def test_tls_client_to_plaintext_server_says_the_server_has_no_tls(
    env_server: EnvServer, tls_material: CertPaths
) -> None:
    """A TLS client talking to a server without TLS is told so."""
    message = _failure(env_server.port, TLSConfig(ca=tls_material.ca))
    assert "does not use TLS but this client does" in message


@pytest.mark.parametrize("use_tls", [False, True], ids=["plaintext", "tls"])
def test_nothing_listening_says_so(use_tls: bool, tls_material: CertPaths) -> None:
    """A closed port is reported as nothing listening, with or without TLS."""
    port = _free_port()
    tls = TLSConfig(ca=tls_material.ca) if use_tls else None
    with pytest.raises(ConnectError, match=r"nothing is listening on 127\.0\.0\.1"):
        RemoteEnvironment(url="127.0.0.1", port=port, tls=tls, timeouts=Timeouts(connect=0.5))


def test_diagnosis_api_classifies_without_grpc(mtls_server: EnvServer, tls_material: CertPaths) -> None:
    """diagnose_connect_failure probes the server directly and returns the failure kind."""
    diagnosis = diagnose_connect_failure(
        "Socket closed", tls=TLSConfig(ca=tls_material.ca), host="127.0.0.1", port=mtls_server.port
    )
    assert diagnosis.failure is Failure.CLIENT_CERT_MISSING
    assert explain_connect_failure("x", tls=None, host="127.0.0.1", port=_free_port()).startswith(
        "nothing is"
    )


def test_diagnosis_keeps_grpc_details_when_nothing_is_wrong(
    mtls_server: EnvServer, tls_material: CertPaths
) -> None:
    """When every probe succeeds, the message is gRPC's own description."""
    tls = TLSConfig(ca=tls_material.ca, cert=tls_material.client_cert, key=tls_material.client_key)
    diagnosis = diagnose_connect_failure("some gRPC detail", tls=tls, host="127.0.0.1", port=mtls_server.port)
    assert diagnosis.failure is Failure.UNKNOWN
    assert diagnosis.message == "some gRPC detail"


def test_unreadable_client_files_fall_back_to_grpc_details(
    tls_server: EnvServer, tmp_path: pathlib.Path
) -> None:
    """A CA file that cannot be loaded does not crash the diagnosis."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    diagnosis = diagnose_connect_failure(
        "detail", tls=TLSConfig(ca=bad), host="127.0.0.1", port=tls_server.port
    )
    assert diagnosis.failure is Failure.UNKNOWN
