"""Argument types and option groups shared by several subcommands."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from remote_gym._constants import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_PORT
from remote_gym.errors import ConfigError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig

HOSTING_CHOICES = {
    "process": "process",
    "inline": "inline",
    "in-process": "inline",
    "thread": "inline",
    "auto": "auto",
}
"""Accepted ``--hosting`` spellings and the ServerConfig mode each stands for."""


def json_object(text: str) -> dict[str, Any]:
    """Argument type: a JSON object such as ``'{"level": 3}'``."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"level\": 3}}', got {text!r}")
    return value


def hosting_mode(text: str) -> str:
    """Argument type: ``process``, ``inline`` (also spelled ``in-process``) or ``auto``."""
    try:
        return HOSTING_CHOICES[text]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"hosting must be process (a worker process per session), in-process or auto, got {text!r}"
        ) from None


def positive_int(text: str) -> int:
    """Argument type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_client_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's ``address`` (``host:port``, a bare host takes the default port) and ``--connect-timeout``."""
    parser.add_argument(
        "address",
        nargs="?",
        default=f"127.0.0.1:{DEFAULT_PORT}",
        help=f"server host:port (default: 127.0.0.1:{DEFAULT_PORT}; a bare host uses port {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for the server (default: {DEFAULT_CONNECT_TIMEOUT_S:g})",
    )


def add_client_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """``--ca``, ``--cert``, ``--key`` and ``--server-name`` for a client."""
    group = parser.add_argument_group("TLS (use the files `remote-gym certs` writes)")
    group.add_argument(
        "--ca", metavar="PEM", help="CA certificate that signed the server's certificate (ca.pem)"
    )
    group.add_argument("--cert", metavar="PEM", help="client certificate for mutual TLS (client.pem)")
    group.add_argument("--key", metavar="PEM", help="client private key for mutual TLS (client-key.pem)")
    group.add_argument(
        "--server-name", metavar="NAME", help="name to verify the server certificate against, if not the host"
    )


def client_tls(args: argparse.Namespace) -> TLSConfig | None:
    """The client TLS settings the flags describe, or None for no TLS.

    Raises:
        ConfigError: Only one of ``--cert`` and ``--key`` was given.
    """
    if (args.cert is None) != (args.key is None):
        raise ConfigError("mutual TLS needs both --cert client.pem and --key client-key.pem")
    if not (args.ca or args.cert or args.server_name):
        return None
    return TLSConfig(ca=args.ca, cert=args.cert, key=args.key, server_name=args.server_name)


TOKEN_ENV = "REMOTE_GYM_TOKEN"
"""Environment variable read for the bearer token (keeps it out of shell history and ps)."""


def add_token_argument(parser: argparse.ArgumentParser, *, server: bool) -> None:
    """``--token`` (default: the REMOTE_GYM_TOKEN environment variable)."""
    what = "bearer token clients must send" if server else "bearer token the server requires"
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        metavar="TOKEN",
        help=f"{what} (default: ${TOKEN_ENV}; prefer the variable, flags show in ps)",
    )


def token(args: argparse.Namespace) -> TokenAuth | None:
    """The token the flags or environment give, or None."""
    return TokenAuth(args.token) if args.token else None


def add_server_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cert``, ``--key`` and ``--ca`` for a server."""
    group = parser.add_argument_group("TLS (use the files `remote-gym certs` writes)")
    group.add_argument("--cert", metavar="PEM", help="server certificate (server.pem); enables TLS")
    group.add_argument("--key", metavar="PEM", help="server private key (server-key.pem)")
    group.add_argument(
        "--ca", metavar="PEM", help="CA of client certificates (ca.pem); clients must then present one (mTLS)"
    )


def server_tls(args: argparse.Namespace) -> ServerTLSConfig | None:
    """The server TLS settings the flags describe, or None for no TLS.

    Raises:
        ConfigError: ``--cert`` without ``--key`` (or the reverse), or ``--ca`` without both.
    """
    if (args.cert is None) != (args.key is None):
        raise ConfigError("TLS needs both --cert server.pem and --key server-key.pem")
    if args.cert is None:
        if args.ca is not None:
            raise ConfigError("--ca (mutual TLS) also needs the server's --cert and --key")
        return None
    return ServerTLSConfig(cert=args.cert, key=args.key, client_ca=args.ca)
