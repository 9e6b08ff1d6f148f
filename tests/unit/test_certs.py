"""Tests for the development certificate generator in remote_gym.transport.certs."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pathlib
import stat
import sys
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from remote_gym.errors import ConfigError
from remote_gym.transport.certs import CertPaths, certificate_names, generate_dev_certs

_ECHO_METHOD = "/remote_gym.test.Echo/Echo"
_CALL_TIMEOUT_S = 5.0


def _load_cert(path: pathlib.Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _assert_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    public_key = issuer.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert cert.signature_hash_algorithm is not None
    public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))


def _extended_key_usage(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_all_files_load(tls_material: CertPaths) -> None:
    """Every certificate and private key file parses as PEM."""
    for path in (tls_material.ca, tls_material.server_cert, tls_material.client_cert):
        _load_cert(path)
    for path in (tls_material.ca_key, tls_material.server_key, tls_material.client_key):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)


def test_files_use_the_0_7_names(tls_material: CertPaths) -> None:
    """The six files carry the file names of the 0.7.x release."""
    names = {
        path.name
        for path in (
            tls_material.ca,
            tls_material.ca_key,
            tls_material.server_cert,
            tls_material.server_key,
            tls_material.client_cert,
            tls_material.client_key,
        )
    }
    assert names == {"ca.pem", "ca-key.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"}


def test_credentials_paths_have_the_public_tuple_shapes(tls_material: CertPaths) -> None:
    """The server tuple is (cert, key, ca) and the client tuple is (ca, cert, key), as strings."""
    assert tls_material.server_credentials_paths == (
        str(tls_material.server_cert),
        str(tls_material.server_key),
        str(tls_material.ca),
    )
    assert tls_material.client_credentials_paths == (
        str(tls_material.ca),
        str(tls_material.client_cert),
        str(tls_material.client_key),
    )


def test_ca_is_a_ca(tls_material: CertPaths) -> None:
    """The CA certificate is self-signed, marked as a CA and allowed to sign certificates."""
    ca = _load_cert(tls_material.ca)
    _assert_signed_by(ca, ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True


def test_leaf_certificates_are_signed_by_the_ca(tls_material: CertPaths) -> None:
    """The CA's key verifies the signatures of the server and client certificates."""
    ca = _load_cert(tls_material.ca)
    for path in (tls_material.server_cert, tls_material.client_cert):
        cert = _load_cert(path)
        _assert_signed_by(cert, ca)
        assert cert.issuer == ca.subject
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_another_ca_did_not_sign_the_server_certificate(
    tls_material: CertPaths, other_tls_material: CertPaths
) -> None:
    """Signature verification with an unrelated CA fails."""
    with pytest.raises(InvalidSignature):
        _assert_signed_by(_load_cert(tls_material.server_cert), _load_cert(other_tls_material.ca))


def test_extended_key_usages(tls_material: CertPaths) -> None:
    """The server certificate is for server auth and the client certificate for client auth."""
    assert _extended_key_usage(_load_cert(tls_material.server_cert)) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _extended_key_usage(_load_cert(tls_material.client_cert)) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_server_certificate_names_loopback(tls_material: CertPaths) -> None:
    """The server certificate is valid for localhost, 127.0.0.1 and ::1."""
    sans = _load_cert(tls_material.server_cert).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert sans.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.value.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert certificate_names(tls_material.server_cert.read_bytes()) == ["localhost", "127.0.0.1", "::1"]


def test_custom_names_and_common_names(tmp_path: pathlib.Path) -> None:
    """Host names, IP addresses, client and CA names given by the caller end up in the certificates."""
    paths = generate_dev_certs(
        tmp_path,
        hostnames=("env.example", "gpu-box"),
        ip_addresses=("10.0.0.7",),
        days=2,
        client_name="trainer-7",
        ca_name="lab CA",
    )
    assert certificate_names(paths.server_cert.read_bytes()) == ["env.example", "gpu-box", "10.0.0.7"]
    client = _load_cert(paths.client_cert)
    assert client.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "trainer-7"
    ca = _load_cert(paths.ca)
    assert ca.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "lab CA"
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert lifetime.days == 2


def test_a_single_hostname_string_is_not_split(tmp_path: pathlib.Path) -> None:
    """Passing one host name as a plain string names that host, not its characters."""
    paths = generate_dev_certs(tmp_path, hostnames="gpu-box", ip_addresses=())
    assert certificate_names(paths.server_cert.read_bytes()) == ["gpu-box"]


def test_certificate_names_of_a_certificate_without_sans(tls_material: CertPaths) -> None:
    """A certificate without a SubjectAlternativeName extension has no names."""
    assert certificate_names(tls_material.client_cert.read_bytes()) == []


def test_certificate_names_rejects_non_pem() -> None:
    """Bytes that are not a PEM certificate raise ConfigError."""
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        certificate_names(b"hello")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ip_addresses": ("not-an-ip",)}, "invalid IP address"),
        ({"hostnames": (), "ip_addresses": ()}, "at least one host name"),
        ({"days": 0}, "days must be > 0"),
    ],
    ids=["bad-ip", "no-names", "zero-days"],
)
def test_bad_arguments_raise_config_error(
    tmp_path: pathlib.Path, kwargs: dict[str, object], match: str
) -> None:
    """Invalid arguments raise ConfigError before anything is written."""
    with pytest.raises(ConfigError, match=match):
        generate_dev_certs(tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_private_keys_are_readable_by_the_owner_only(tls_material: CertPaths) -> None:
    """Private key files have mode 0600."""
    for path in (tls_material.ca_key, tls_material.server_key, tls_material.client_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_regenerating_tightens_existing_key_files(tmp_path: pathlib.Path) -> None:
    """An existing world-readable key file is overwritten and left with mode 0600."""
    stale = tmp_path / "server-key.pem"
    stale.write_bytes(b"stale")
    os.chmod(stale, 0o644)
    paths = generate_dev_certs(tmp_path)
    assert stat.S_IMODE(paths.server_key.stat().st_mode) == 0o600
    assert paths.server_key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


# --- real handshakes over loopback ------------------------------------------------------------


@contextlib.contextmanager
def _echo_server(material: CertPaths, *, require_client_auth: bool) -> Iterator[int]:
    """Serve a unary bytes echo with the material's server certificate; yield the port."""
    handler = grpc.method_handlers_generic_handler(
        "remote_gym.test.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(lambda request, context: request)},
    )
    credentials = grpc.ssl_server_credentials(
        [(material.server_key.read_bytes(), material.server_cert.read_bytes())],
        root_certificates=material.ca.read_bytes() if require_client_auth else None,
        require_client_auth=require_client_auth,
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    try:
        server.add_generic_rpc_handlers((handler,))
        port = server.add_secure_port("127.0.0.1:0", credentials)
        server.start()
        yield port
    finally:
        server.stop(grace=None).wait(timeout=_CALL_TIMEOUT_S)


def _echo(port: int, credentials: grpc.ChannelCredentials) -> bytes:
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        reply: bytes = channel.unary_unary(_ECHO_METHOD)(b"ping", timeout=_CALL_TIMEOUT_S)
    return reply


def _channel_credentials(ca: CertPaths, client: CertPaths | None = None) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=ca.ca.read_bytes(),
        private_key=client.client_key.read_bytes() if client else None,
        certificate_chain=client.client_cert.read_bytes() if client else None,
    )


@pytest.fixture
def tls_port(tls_material: CertPaths) -> Iterator[int]:
    """Port of a loopback echo server using server-side TLS only."""
    with _echo_server(tls_material, require_client_auth=False) as port:
        yield port


@pytest.fixture
def mtls_port(tls_material: CertPaths) -> Iterator[int]:
    """Port of a loopback echo server requiring client certificates signed by the test CA."""
    with _echo_server(tls_material, require_client_auth=True) as port:
        yield port


@pytest.mark.integration
def test_tls_handshake(tls_port: int, tls_material: CertPaths) -> None:
    """A client trusting the CA completes a TLS call to a server using the generated certificate."""
    assert _echo(tls_port, _channel_credentials(tls_material)) == b"ping"


@pytest.mark.integration
def test_mtls_handshake(mtls_port: int, tls_material: CertPaths) -> None:
    """A client presenting the generated client certificate completes a mutual-TLS call."""
    assert _echo(mtls_port, _channel_credentials(tls_material, tls_material)) == b"ping"


@pytest.mark.integration
def test_wrong_ca_is_rejected(tls_port: int, other_tls_material: CertPaths) -> None:
    """A client trusting an unrelated CA refuses the server certificate."""
    with pytest.raises(grpc.RpcError) as caught:
        _echo(tls_port, _channel_credentials(other_tls_material))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.integration
def test_mtls_without_client_certificate_is_rejected(mtls_port: int, tls_material: CertPaths) -> None:
    """A mutual-TLS server refuses a client that presents no certificate."""
    with pytest.raises(grpc.RpcError) as caught:
        _echo(mtls_port, _channel_credentials(tls_material))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.integration
def test_mtls_with_client_certificate_of_another_ca_is_rejected(
    mtls_port: int, tls_material: CertPaths, other_tls_material: CertPaths
) -> None:
    """A mutual-TLS server refuses a client certificate signed by an unrelated CA."""
    with pytest.raises(grpc.RpcError) as caught:
        _echo(mtls_port, _channel_credentials(tls_material, other_tls_material))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
