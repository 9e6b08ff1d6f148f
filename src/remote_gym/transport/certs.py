"""Generate a development CA with server and client certificates for TLS and mutual TLS."""

from __future__ import annotations

import datetime
import ipaddress
import os
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from remote_gym.errors import ConfigError

DEFAULT_CA_NAME = "remote-gym development CA"
DEFAULT_CLIENT_NAME = "remote-gym-client"

# Clocks of the two machines rarely agree to the second; back-date so a fresh cert is valid at once.
_CLOCK_SKEW = datetime.timedelta(minutes=5)
_PRIVATE_FILE_MODE = 0o600


@dataclass(frozen=True, kw_only=True)
class CertPaths:
    """Where :func:`generate_dev_certs` wrote each PEM file (the 0.7.x file names).

    Example:
        >>> paths = generate_dev_certs("certs")  # doctest: +SKIP
        >>> paths.server_credentials_paths  # doctest: +SKIP
        ('certs/server.pem', 'certs/server-key.pem', 'certs/ca.pem')
    """

    ca: pathlib.Path
    """CA certificate (``ca.pem``); clients trust it, and mutual-TLS servers verify clients with it."""
    ca_key: pathlib.Path
    """CA private key (``ca-key.pem``); keep it to sign more certificates, never ship it."""
    server_cert: pathlib.Path
    """Server certificate (``server.pem``)."""
    server_key: pathlib.Path
    """Server private key (``server-key.pem``)."""
    client_cert: pathlib.Path
    """Client certificate for mutual TLS (``client.pem``)."""
    client_key: pathlib.Path
    """Client private key for mutual TLS (``client-key.pem``)."""

    @classmethod
    def in_directory(cls, directory: str | os.PathLike[str]) -> CertPaths:
        """The paths of the 0.7.x file names inside ``directory`` (nothing is read or written)."""
        root = pathlib.Path(directory)
        return cls(
            ca=root / "ca.pem",
            ca_key=root / "ca-key.pem",
            server_cert=root / "server.pem",
            server_key=root / "server-key.pem",
            client_cert=root / "client.pem",
            client_key=root / "client-key.pem",
        )

    @property
    def server_credentials_paths(self) -> tuple[str, str, str]:
        """The 0.7.x server tuple ``(server.pem, server-key.pem, ca.pem)``."""
        return (str(self.server_cert), str(self.server_key), str(self.ca))

    @property
    def client_credentials_paths(self) -> tuple[str, str, str]:
        """The 0.7.x client tuple ``(ca.pem, client.pem, client-key.pem)``."""
        return (str(self.ca), str(self.client_cert), str(self.client_key))


def generate_dev_certs(
    out_dir: str | os.PathLike[str],
    *,
    hostnames: Iterable[str] = ("localhost",),
    ip_addresses: Iterable[str] = ("127.0.0.1", "::1"),
    days: int = 365,
    client_name: str = DEFAULT_CLIENT_NAME,
    ca_name: str = DEFAULT_CA_NAME,
) -> CertPaths:
    """Create a throw-away CA and sign a server and a client certificate with it.

    All keys are EC P-256. Existing files with the same names are overwritten; private keys are
    written with mode 0600. Meant for development and tests, not for production PKI.

    Args:
        out_dir: Directory to write into; created if missing.
        hostnames: DNS names the server certificate is valid for.
        ip_addresses: IP addresses the server certificate is valid for.
        days: Validity of every certificate, in days.
        client_name: Common name of the client certificate.
        ca_name: Common name of the CA certificate.

    Returns:
        The paths of the six files written.

    Raises:
        ConfigError: If ``days`` is not positive, no host name or IP address is given, an IP
            address does not parse, or ``out_dir`` cannot be written.
    """
    dns_names = _as_list(hostnames)
    try:
        ips = [ipaddress.ip_address(ip) for ip in _as_list(ip_addresses)]
    except ValueError as exc:
        raise ConfigError(f"invalid IP address for the server certificate: {exc}") from exc
    if not dns_names and not ips:
        raise ConfigError("the server certificate needs at least one host name or IP address")
    if days <= 0:
        raise ConfigError(f"days must be > 0, got {days!r}")

    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - _CLOCK_SKEW, now + datetime.timedelta(days=days))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key, ca_name, validity)

    server_sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    server_sans += [x509.IPAddress(ip) for ip in ips]
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _leaf_certificate(
        server_key.public_key(),
        common_name=dns_names[0] if dns_names else str(ips[0]),
        sans=server_sans,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        ca_key=ca_key,
        ca_cert=ca_cert,
        validity=validity,
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _leaf_certificate(
        client_key.public_key(),
        common_name=client_name,
        sans=[],
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        ca_key=ca_key,
        ca_cert=ca_cert,
        validity=validity,
    )

    paths = CertPaths.in_directory(out_dir)
    try:
        paths.ca.parent.mkdir(parents=True, exist_ok=True)
        _write_private_key(paths.ca_key, ca_key)
        _write_certificate(paths.ca, ca_cert)
        _write_private_key(paths.server_key, server_key)
        _write_certificate(paths.server_cert, server_cert)
        _write_private_key(paths.client_key, client_key)
        _write_certificate(paths.client_cert, client_cert)
    except OSError as exc:
        raise ConfigError(f"cannot write certificates to {str(out_dir)!r}: {exc.strerror or exc}") from exc
    return paths


def certificate_names(pem_bytes: bytes) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for, from its SubjectAlternativeName.

    Only the first certificate of a PEM chain (the leaf) is read.

    Args:
        pem_bytes: A PEM-encoded certificate or chain.

    Returns:
        DNS names first, then IP addresses as text; empty if the certificate has no SAN extension.

    Raises:
        ConfigError: If ``pem_bytes`` is not a PEM certificate.
    """
    try:
        cert = x509.load_pem_x509_certificate(pem_bytes)
    except ValueError as exc:
        raise ConfigError(f"not a PEM certificate: {exc}") from exc
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [str(name) for name in sans.get_values_for_type(x509.DNSName)]
    return names + [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]


def _as_list(values: Iterable[str]) -> list[str]:
    # A lone string would otherwise be split into characters.
    return [values] if isinstance(values, str) else list(values)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "remote-gym (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey,
    common_name: str,
    validity: tuple[datetime.datetime, datetime.datetime],
) -> x509.Certificate:
    name = _name(common_name)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf_certificate(
    public_key: ec.EllipticCurvePublicKey,
    *,
    common_name: str,
    sans: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    validity: tuple[datetime.datetime, datetime.datetime],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_certificate(path: pathlib.Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_private_key(path: pathlib.Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create the file private from the start, and tighten a pre-existing file before writing to it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        os.chmod(path, _PRIVATE_FILE_MODE)
        file.write(pem)
