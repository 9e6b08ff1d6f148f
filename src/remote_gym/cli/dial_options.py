"""The `serve --dial` options: a host that dials out to hubs instead of listening."""

from __future__ import annotations

import argparse
import os
from typing import Any

from remote_gym.errors import ConfigError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

HOST_TOKEN_ENV = "REMOTE_GYM_HOST_TOKEN"
"""Environment variable read for the hosts' token (``hub --host-token``, ``serve --dial-token``)."""


def add_dial_arguments(parser: argparse.ArgumentParser) -> None:
    """``serve``'s ``--dial``, ``--name``, ``--dial-token`` and the links' TLS flags."""
    group = parser.add_argument_group("dial out to hubs (no listener; see `remote-gym hub`)")
    group.add_argument(
        "--dial", action="append", default=[], metavar="HUB", help="hub host:port to attach to (repeatable)"
    )
    group.add_argument("--name", metavar="NAME", help="this host's name at its hubs")
    group.add_argument(
        "--dial-token",
        default=os.environ.get(HOST_TOKEN_ENV),
        metavar="TOKEN",
        help=f"the hubs' host token (default: ${HOST_TOKEN_ENV})",
    )
    group.add_argument("--dial-ca", metavar="PEM", help="CA that signed the hubs' certificates (TLS)")
    group.add_argument("--dial-cert", metavar="PEM", help="this host's certificate, for hubs asking mTLS")
    group.add_argument("--dial-key", metavar="PEM", help="this host's private key, for hubs asking mTLS")


def dial_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ServerConfig fields of the ``--dial`` flags (empty without ``--dial``).

    Raises:
        ConfigError: ``--dial`` without ``--name`` or a token, or only one of ``--dial-cert`` and ``--dial-key``.
    """
    if not args.dial:
        return {}
    if not args.name or not args.dial_token:
        raise ConfigError(f"--dial needs --name and --dial-token (or ${HOST_TOKEN_ENV})")
    if (args.dial_cert is None) != (args.dial_key is None):
        raise ConfigError("mutual TLS to a hub needs both --dial-cert and --dial-key")
    tls = None
    if args.dial_ca or args.dial_cert:
        tls = TLSConfig(ca=args.dial_ca, cert=args.dial_cert, key=args.dial_key)
    return {
        "dial": tuple(args.dial),
        "dial_name": args.name,
        "dial_token": TokenAuth(args.dial_token),
        "dial_tls": tls,
    }
