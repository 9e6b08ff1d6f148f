"""The 0.7.x console scripts, as thin aliases of `remote-gym serve` and `remote-gym interact`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rich.console import Console

from remote_gym._constants import DEFAULT_PORT
from remote_gym.cli.main import main
from remote_gym.cli.options import json_object

# The seed's hosting example served Acrobot-v1; keep serving it when no environment is named.
DEFAULT_COMPAT_ENV = "Acrobot-v1"


def _common(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "-u", "--url", default="localhost", help=f"host name or IP address {what} (default: localhost)"
    )
    parser.add_argument(
        "-p", "--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})"
    )
    parser.add_argument("--root_certificate", metavar="PEM", help="CA certificate (ca.pem)")
    parser.add_argument("--debug", action="store_true", help="verbose logs and full tracebacks")


def _server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="start_remote_environment",
        description="Host an environment for remote clients (the 0.7.x command; same as `remote-gym serve`). "
        "With --root_certificate, clients must present a certificate signed by it (mutual TLS).",
        epilog="example: start_remote_environment -u 0.0.0.0 -p 56765 --server_certificate server.pem "
        "--server_private_key server-key.pem --root_certificate ca.pem",
    )
    _common(parser, "to bind")
    parser.add_argument("--server_certificate", metavar="PEM", help="server certificate (server.pem)")
    parser.add_argument("--server_private_key", metavar="PEM", help="server private key (server-key.pem)")
    parser.add_argument(
        "--use_thread", action="store_true", help="run environments inside the server process"
    )
    parser.add_argument(
        "--render_mode",
        help="accepted for 0.7.x compatibility and ignored: every client now picks its own render mode",
    )
    parser.add_argument("--env", default=None, help=f"Gymnasium id to host (default: {DEFAULT_COMPAT_ENV})")
    parser.add_argument(
        "--entrypoint", metavar="FILE", help="host create_environment() from this file instead"
    )
    parser.add_argument(
        "--entrypoint_kwargs", type=json_object, metavar="JSON", help="kwargs for the environment"
    )
    return parser


def _client_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="start_environment_interaction",
        description="Connect to a server and play episodes with a random agent (the 0.7.x command; same "
        "as `remote-gym interact`).",
        epilog="example: start_environment_interaction -u 192.168.1.20 -p 56765 --root_certificate ca.pem "
        "--client_certificate client.pem --client_private_key client-key.pem",
    )
    _common(parser, "of the server")
    parser.add_argument(
        "--client_certificate", metavar="PEM", help="client certificate for mutual TLS (client.pem)"
    )
    parser.add_argument(
        "--client_private_key", metavar="PEM", help="client private key for mutual TLS (client-key.pem)"
    )
    parser.add_argument(
        "--render_mode", choices=("human", "rgb_array"), help="render mode (human opens a window)"
    )
    parser.add_argument(
        "--use_thread", action="store_true", help="accepted for 0.7.x compatibility; no effect"
    )
    parser.add_argument("--episodes", type=int, default=5, help="episodes to play (default: 5)")
    return parser


def server_argv(argv: Sequence[str] | None = None) -> list[str]:
    """Translate 0.7.x ``start_remote_environment`` arguments into ``remote-gym serve`` ones."""
    args = _server_parser().parse_args(argv)
    out = ["--debug"] if args.debug else []
    out += ["serve"]
    if args.entrypoint:
        out += ["--entrypoint", args.entrypoint]
    else:
        out += [args.env or DEFAULT_COMPAT_ENV]
    if args.entrypoint_kwargs:
        out += ["--kwargs", json.dumps(args.entrypoint_kwargs)]
    out += ["--host", args.url, "--port", str(args.port)]
    out += _flag("--cert", args.server_certificate) + _flag("--key", args.server_private_key)
    out += _flag("--ca", args.root_certificate)
    if args.use_thread:
        out += ["--hosting", "in-process"]
    return out


def client_argv(argv: Sequence[str] | None = None) -> list[str]:
    """Translate 0.7.x ``start_environment_interaction`` arguments into ``remote-gym interact`` ones."""
    args = _client_parser().parse_args(argv)
    out = ["--debug"] if args.debug else []
    host = f"[{args.url}]" if ":" in args.url else args.url
    out += ["interact", f"{host}:{args.port}", "--episodes", str(args.episodes)]
    out += _flag("--ca", args.root_certificate)
    out += _flag("--cert", args.client_certificate) + _flag("--key", args.client_private_key)
    out += _flag("--render-mode", args.render_mode)
    return out


def start_remote_environment(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Console script ``start_remote_environment``: serve until Ctrl-C or SIGTERM; returns the exit code."""
    return main(server_argv(argv), console=console)


def start_environment_interaction(
    argv: Sequence[str] | None = None, *, console: Console | None = None
) -> int:
    """Console script ``start_environment_interaction``: play episodes; returns the exit code."""
    return main(client_argv(argv), console=console)


def _flag(name: str, value: str | None) -> list[str]:
    return [name, value] if value else []
