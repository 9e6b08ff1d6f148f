"""`remote-gym certs`: a development CA plus server and client certificates, without cfssl."""

from __future__ import annotations

import argparse
import ipaddress
import pathlib

from rich.console import Console
from rich.table import Table

from remote_gym._constants import DEFAULT_PORT
from remote_gym.cli.options import positive_int
from remote_gym.errors import ConfigError
from remote_gym.transport.certs import DEFAULT_CLIENT_NAME, CertPaths, generate_dev_certs

LOOPBACK_NAMES = ("localhost",)
LOOPBACK_IPS = ("127.0.0.1", "::1")

EXAMPLES = """\
examples:
  remote-gym certs                                   # ./certs, valid for localhost, 127.0.0.1, ::1
  remote-gym certs --host gpu-box.lan --host 192.168.1.20 --out certs
  remote-gym certs --out certs --force               # replace existing files

Then (TLS):
  remote-gym serve CartPole-v1 --host 0.0.0.0 --cert certs/server.pem --key certs/server-key.pem
  remote-gym interact gpu-box.lan:56765 --ca certs/ca.pem
Mutual TLS adds --ca certs/ca.pem to serve and --cert certs/client.pem --key certs/client-key.pem to
interact. Copy ca.pem, client.pem and client-key.pem to the training machine; ca-key.pem stays private."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``certs`` subcommand."""
    parser = subparsers.add_parser(
        "certs",
        help="create a CA, a server and a client certificate for TLS / mutual TLS",
        description="Create a development certificate authority and sign a server certificate (for the "
        "given host names and IP addresses) and a client certificate with it. Files: ca.pem, ca-key.pem, "
        "server.pem, server-key.pem, client.pem, client-key.pem; private keys get mode 0600.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", default="certs", metavar="DIR", help="directory to write to (default: ./certs)"
    )
    parser.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME_OR_IP",
        help="host name or IP address clients use to reach the server (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--no-loopback",
        action="store_true",
        help="leave localhost, 127.0.0.1 and ::1 out of the server certificate",
    )
    parser.add_argument("--days", type=positive_int, default=365, help="validity in days (default: 365)")
    parser.add_argument(
        "--client-name", default=DEFAULT_CLIENT_NAME, help="common name of the client certificate"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(run=run)


def split_hosts(values: list[str], *, loopback: bool) -> tuple[list[str], list[str]]:
    """Split ``--host`` values into DNS names and IP addresses, loopback names first unless left out."""
    names: list[str] = list(LOOPBACK_NAMES) if loopback else []
    ips: list[str] = list(LOOPBACK_IPS) if loopback else []
    for value in values:
        for item in (part.strip().strip("[]") for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_address(item)
            except ValueError:
                target = names
            else:
                target = ips
            if item not in target:
                target.append(item)
    return names, ips


def run(args: argparse.Namespace, console: Console) -> int:
    """Write the certificates and show what to do with them; returns the exit code."""
    names, ips = split_hosts(args.host, loopback=not args.no_loopback)
    if not names and not ips:
        raise ConfigError("--no-loopback leaves no name in the server certificate: add --host NAME_OR_IP")
    planned = CertPaths.in_directory(args.out)
    existing = [p for p in _all(planned) if p.exists()]
    if existing and not args.force:
        raise ConfigError(
            f"{existing[0]} already exists (and {len(existing) - 1} more): pass --force to replace them, "
            "or --out another directory"
        )
    paths = generate_dev_certs(
        args.out, hostnames=names, ip_addresses=ips, days=args.days, client_name=args.client_name
    )
    table = Table(title=f"certificates in {args.out} (valid {args.days} days)")
    table.add_column("file")
    table.add_column("what")
    table.add_column("goes to")
    table.add_row(paths.ca.name, "CA certificate", "both machines")
    table.add_row(paths.ca_key.name, "CA private key (0600)", "nowhere: keep it to sign more")
    table.add_row(paths.server_cert.name, f"server certificate for {', '.join(names + ips)}", "server")
    table.add_row(paths.server_key.name, "server private key (0600)", "server")
    table.add_row(paths.client_cert.name, f"client certificate ({args.client_name})", "client (mutual TLS)")
    table.add_row(paths.client_key.name, "client private key (0600)", "client (mutual TLS)")
    console.print(table)
    out = pathlib.Path(args.out)
    given = [h for h in names + ips if h not in LOOPBACK_NAMES + LOOPBACK_IPS]
    host = given[0] if given else "127.0.0.1"
    bind = " --host 0.0.0.0" if given else ""
    if ":" in host:
        host = f"[{host}]"
    lines = (
        "TLS:",
        f"  remote-gym serve CartPole-v1{bind} --cert {out / 'server.pem'} --key {out / 'server-key.pem'}",
        f"  remote-gym interact {host}:{DEFAULT_PORT} --ca {out / 'ca.pem'}",
        f"mutual TLS: add --ca {out / 'ca.pem'} to serve, and --cert {out / 'client.pem'} "
        f"--key {out / 'client-key.pem'} to interact",
    )
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)
    return 0


def _all(paths: CertPaths) -> list[pathlib.Path]:
    return [paths.ca, paths.ca_key, paths.server_cert, paths.server_key, paths.client_cert, paths.client_key]
