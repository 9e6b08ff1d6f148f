"""SSL contexts for the wire's TLS streams (the network lane, the HTTP endpoint): no gRPC loaded.

:class:`~remote_gym.transport.tls.TLSConfig` and :class:`~remote_gym.transport.tls.ServerTLSConfig`
build theirs here from their certificate paths; a worker that serves a network lane over TLS builds
the server's from the same paths without loading gRPC (which the transport layer imports).
"""

from __future__ import annotations

import pathlib
import ssl

from remote_gym.errors import ConfigError

PathLike = str | pathlib.Path


def client_ssl_context(ca: PathLike | None, cert: PathLike | None, key: PathLike | None) -> ssl.SSLContext:
    """A client's context: trust ``ca`` (None: the system roots); present ``cert``/``key`` when given.

    Raises:
        ConfigError: A file cannot be read or holds no valid PEM.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        if ca is not None and ca != "":
            context.load_verify_locations(cadata=pathlib.Path(ca).read_bytes().decode())
        if cert is not None and key is not None:
            context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise ConfigError(f"cannot load the client TLS files: {exc}") from exc
    return context


def server_ssl_context(cert: PathLike, key: PathLike, client_ca: PathLike | None) -> ssl.SSLContext:
    """A server's context with ``cert``/``key``; with ``client_ca``, peers must present a certificate it signed.

    Raises:
        ConfigError: A file cannot be read or holds no valid PEM.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert), str(key))
        if client_ca is not None:
            context.load_verify_locations(str(client_ca))
            context.verify_mode = ssl.CERT_REQUIRED
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot load the server TLS files: {exc}") from exc
    return context
