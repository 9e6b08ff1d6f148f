"""TLS settings for both ends, built from the 0.7.x credential-path tuples, and gRPC credentials."""

from __future__ import annotations

import ipaddress
import pathlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from remote_gym.errors import ConfigError
from remote_gym.wire.tls import client_ssl_context, server_ssl_context

PathLike = str | pathlib.Path


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names this machine's loopback interface."""
    host = host.strip("[]")
    if host in ("localhost", "localhost.localdomain") or host.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read(path: PathLike | None, what: str) -> bytes | None:
    if path is None or path == "":
        return None
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {str(path)!r}: {exc.strerror or exc}") from exc


@dataclass(frozen=True, kw_only=True)
class TLSConfig:
    """Client-side TLS: which CA to trust and, for mutual TLS, the client certificate.

    Example:
        >>> TLSConfig.from_paths(("ca.pem", "client.pem", "client-key.pem"))  # doctest: +SKIP
    """

    ca: PathLike | None = None
    """CA certificate that signed the server's certificate; None trusts the system roots."""
    cert: PathLike | None = None
    """Client certificate chain (PEM) for mutual TLS."""
    key: PathLike | None = None
    """Client private key (PEM) for mutual TLS."""
    server_name: str | None = None
    """Host name to verify the server certificate against, when it differs from the address."""

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ConfigError("TLSConfig needs both cert and key for mutual TLS, or neither")

    @classmethod
    def from_paths(cls, paths: Sequence[PathLike | None]) -> TLSConfig:
        """Build from the 0.7.x ``client_credentials_paths`` tuple ``(ca, cert, key)``; cert/key optional."""
        items = list(paths)
        if not 1 <= len(items) <= 3:
            raise ConfigError(f"client_credentials_paths must be (ca, cert, key); got {len(items)} items")
        items += [None] * (3 - len(items))
        return cls(ca=items[0] or None, cert=items[1] or None, key=items[2] or None)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Read the files and build gRPC channel credentials."""
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca, "CA certificate"),
            private_key=_read(self.key, "client private key"),
            certificate_chain=_read(self.cert, "client certificate"),
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The same trust as :meth:`channel_credentials`, for a plain TLS socket (a stream beside gRPC).

        The server's name is checked against ``server_name`` (pass it as ``server_hostname`` when
        wrapping) exactly as gRPC checks it.

        Raises:
            ConfigError: A file cannot be read or holds no valid PEM.
        """
        if self.ca is not None and self.ca != "":
            _read(self.ca, "CA certificate")  # the same error as channel_credentials for a missing file
        return client_ssl_context(self.ca or None, self.cert, self.key)


@dataclass(frozen=True, kw_only=True)
class ServerTLSConfig:
    """Server-side TLS: the server certificate and, for mutual TLS, the CA of client certificates."""

    cert: PathLike
    """Server certificate chain (PEM)."""
    key: PathLike
    """Server private key (PEM)."""
    client_ca: PathLike | None = None
    """CA that signs client certificates; when set, clients must present one (mutual TLS)."""

    @classmethod
    def from_paths(cls, paths: Sequence[PathLike | None]) -> ServerTLSConfig:
        """Build from the 0.7.x ``server_credentials_paths`` tuple ``(cert, key[, ca])``."""
        items = list(paths)
        if not 2 <= len(items) <= 3:
            raise ConfigError(f"server_credentials_paths must be (cert, key[, ca]); got {len(items)} items")
        if not items[0] or not items[1]:
            raise ConfigError("server_credentials_paths needs a certificate and a private key")
        ca = items[2] if len(items) == 3 else None
        return cls(cert=items[0], key=items[1], client_ca=ca or None)

    @property
    def mutual(self) -> bool:
        """True when client certificates are required."""
        return self.client_ca is not None

    def server_credentials(self) -> grpc.ServerCredentials:
        """Read the files and build gRPC server credentials."""
        key = _read(self.key, "server private key")
        cert = _read(self.cert, "server certificate")
        assert key is not None and cert is not None
        return grpc.ssl_server_credentials(
            [(key, cert)],
            root_certificates=_read(self.client_ca, "client CA certificate"),
            require_client_auth=self.mutual,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The same certificates as :meth:`server_credentials`, for a plain TLS socket (HTTP, a stream
        beside gRPC); with mutual TLS, peers must present a certificate signed by ``client_ca``.

        Raises:
            ConfigError: A file cannot be read or holds no valid PEM.
        """
        return server_ssl_context(self.cert, self.key, self.client_ca)
