"""`remote-gym hub`: a server trainers reach, to which env hosts behind NAT or firewalls dial out."""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any

from rich.console import Console

from remote_gym._constants import DEFAULT_HUB_PORT, HUB_HOST_GRACE_S
from remote_gym.cli.dial_options import HOST_TOKEN_ENV
from remote_gym.cli.options import add_server_tls_arguments, add_token_argument, server_tls, token
from remote_gym.cli.serve import _stop_on_signals
from remote_gym.errors import ConfigError
from remote_gym.hub import Hub, HubConfig
from remote_gym.transport.auth import TokenAuth

EXAMPLES = """\
examples:
  remote-gym hub --host 0.0.0.0 --cert server.pem --key server-key.pem   # hosts' token in $REMOTE_GYM_HOST_TOKEN
  remote-gym serve CartPole-v1 --dial hub.example.org:56766 --name lab-pc --dial-ca ca.pem
  python train.py  # RemoteVectorEnv("CartPole-v1", 64, address="hub.example.org:56766", tls=...)"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``hub``."""
    parser = subparsers.add_parser(
        "hub",
        help="route trainers' sessions to env hosts that dial out (serve --dial)",
        description="A server trainers reach; env hosts that cannot be reached (NAT, firewalls) dial "
        "out to it with `remote-gym serve ENV --dial HUB`, and it routes each session to one of them. "
        "It terminates TLS: it sees the sessions' observations and actions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 for every interface")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_HUB_PORT, help=f"port to bind (default: {DEFAULT_HUB_PORT})"
    )
    parser.add_argument(
        "--frames-port",
        metavar="PORT|off",
        default=None,
        help="port hosts carry sessions on as frame streams (TLS as --port; default: --port + 1); "
        "'off': sessions cross a second gRPC stream (slower)",
    )
    parser.add_argument(
        "--host-token",
        default=os.environ.get(HOST_TOKEN_ENV),
        metavar="TOKEN",
        help=f"token env hosts must present (serve --dial-token; default: ${HOST_TOKEN_ENV})",
    )
    parser.add_argument(
        "--host-grace",
        type=float,
        default=HUB_HOST_GRACE_S,
        metavar="S",
        help="seconds a host whose link broke keeps its sessions before they fail",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics (the hub's and each host's, labelled host) at /metrics on this port",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address the metrics endpoint binds (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="serve a live page of the relayed sessions, with charts per host and in total, on this port "
        "(loopback unless the hub has TLS and a --token)",
    )
    add_server_tls_arguments(parser)
    add_token_argument(parser, server=True)
    parser.set_defaults(run=run)


def _frames(value: str | None) -> dict[str, Any]:
    """HubConfig's frame settings from ``--frames-port``."""
    if value is None:
        return {}
    if value.lower() == "off":
        return {"frames": False}
    try:
        return {"frames_port": int(value)}
    except ValueError:
        raise ConfigError(f"--frames-port takes a port number or 'off', not {value!r}") from None


def run(args: argparse.Namespace, console: Console) -> int:
    """Route sessions until Ctrl-C, SIGTERM or SIGHUP."""
    if not args.host_token:
        raise ConfigError(f"a hub needs --host-token (or ${HOST_TOKEN_ENV}): the token env hosts present")
    trainers = token(args)
    config = HubConfig(
        host=args.host,
        port=args.port,
        tls=server_tls(args),
        host_tokens=(TokenAuth(args.host_token),),
        tokens=(trainers,) if trainers else (),
        host_grace_s=args.host_grace,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        web_port=args.web_port,
        **_frames(args.frames_port),
    )
    stop = threading.Event()
    with _stop_on_signals(stop):
        hub = Hub(config).start()
        try:
            frames = f" (session frames on port {hub.frames_port})" if hub.frames_port else ""
            console.print(
                f"remote-gym hub on {hub.address}{frames}; hosts dial it, trainers connect to it",
                highlight=False,
            )
            if hub.metrics_endpoint is not None:
                console.print(f"metrics at {hub.metrics_endpoint.url}metrics", highlight=False)
            if hub.web_endpoint is not None:
                console.print(f"monitoring page at {hub.web_endpoint.url}", highlight=False)
            while not stop.wait(0.25):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            hub.stop(1.0)
    console.print("hub stopped")
    return 0
