"""`remote-gym ray launch|status`: env servers on a Ray cluster (optional extra ``ray``)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from rich.console import Console
from rich.table import Table

from remote_gym.errors import DependencyNotInstalledError

EXAMPLES = """\
examples:
  remote-gym ray launch CartPole-v1 --servers 4                       # a local Ray, 4 servers
  remote-gym ray launch CartPole-v1 --servers 8 --ray-address auto    # the Ray cluster of this node
  remote-gym ray launch --repo https://git.example.org/lab/envs.git --reference v1.2 \\
      --entrypoint envs/entry.py --servers 4                          # every node: that commit
  remote-gym ray status --ray-address auto                            # servers of running launches"""


def add_parser(subparsers: Any) -> None:
    """Register `ray` with its `launch` and `status` subcommands."""
    parser = subparsers.add_parser(
        "ray",
        help="launch env servers on a Ray cluster, or list them",
        description="Env servers placed, supervised and restarted by Ray (uv sync --extra ray).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="ray commands", metavar="RAY_COMMAND")
    launch = commands.add_parser("launch", help="start servers and keep them up until Ctrl-C or SIGTERM")
    launch.add_argument("env", nargs="?", help="a registered Gymnasium id, importable on every node")
    launch.add_argument(
        "--entrypoint",
        metavar="FILE",
        help="instead of ENV: an entrypoint file (its directory is shipped), or with --repo a path in it",
    )
    launch.add_argument(
        "--repo", metavar="URL", help="git repository every node checks the entrypoint out of"
    )
    launch.add_argument(
        "--reference",
        metavar="REF",
        help="branch, tag or commit of --repo, resolved once here (default: HEAD)",
    )
    launch.add_argument("--servers", type=int, default=1, help="number of servers (default 1)")
    launch.add_argument("--ray-address", default=None, help="Ray cluster (default: a new local one)")
    launch.add_argument(
        "--strategy", default="SPREAD", choices=("SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK")
    )
    launch.add_argument("--cpus", type=float, default=1.0, help="Ray CPUs per server (default 1)")
    launch.add_argument(
        "--hub", action="store_true", help="also start a hub the servers dial: trainers need its address only"
    )
    launch.set_defaults(run=run_launch)
    status = commands.add_parser("status", help="list the servers of running launches")
    status.add_argument("--ray-address", default="auto", help="Ray cluster (default: auto)")
    status.set_defaults(run=run_status)
    parser.set_defaults(run=lambda args, console: parser.print_help() or 2)


def _need_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise DependencyNotInstalledError("remote-gym ray needs Ray: uv sync --extra ray") from exc


def run_launch(args: argparse.Namespace, console: Console) -> int:
    """Launch, print the servers, wait for Ctrl-C or SIGTERM, tear everything down."""
    _need_ray()
    from remote_gym.ray import EnvCluster

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with EnvCluster.launch(
            args.env,
            entrypoint=args.entrypoint,
            repo=args.repo,
            reference=args.reference,
            num_servers=args.servers,
            strategy=args.strategy,
            server_resources={"num_cpus": args.cpus},
            ray_address=args.ray_address,
            hub=args.hub,
        ) as cluster:
            table = Table(title=f"{cluster.name}: {args.env or args.entrypoint}")
            for column in ("server", "address", "node", "state", "restarts"):
                table.add_column(column)
            for record in cluster.servers:
                table.add_row(
                    str(record.index),
                    record.address or "(dials the hub)",
                    record.node_id,
                    record.state,
                    str(record.restarts),
                )
            console.print(table)
            console.print(f"addresses: {','.join(cluster.addresses)}   (Ctrl-C or SIGTERM stops them)")
            try:
                while not stop.wait(1.0):
                    pass
            except KeyboardInterrupt:
                pass
            console.print("stopping the servers")
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def run_status(args: argparse.Namespace, console: Console) -> int:
    """Print the servers of every launch running on the Ray cluster."""
    _need_ray()
    import ray

    from remote_gym.ray.spawn import NAMESPACE
    from remote_gym.ray.status import running_servers

    ray.init(address=args.ray_address, namespace=NAMESPACE, log_to_driver=False)
    try:
        rows = running_servers()
    finally:
        ray.shutdown()
    table = Table(title="remote-gym servers on Ray")
    for column in ("actor", "address", "node", "state"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["address"] or "-", row["node_id"] or "-", row["state"])
    console.print(table if rows else "no remote-gym servers are running on this Ray cluster")
    return 0
