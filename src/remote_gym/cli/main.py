"""`remote-gym` entry point: builds the parser, dispatches subcommands, maps errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.logging import RichHandler

from remote_gym._version import __version__
from remote_gym.errors import RemoteGymError


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand."""
    from remote_gym.cli import demo

    parser = argparse.ArgumentParser(
        prog="remote-gym",
        description="Host Gymnasium environments on one machine and use them from another.",
        epilog="example: remote-gym demo",
    )
    parser.add_argument("--version", action="version", version=f"remote-gym {__version__}")
    parser.add_argument("--debug", action="store_true", help="verbose logs and full tracebacks")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (demo,):
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 failure, 2 usage error)."""
    console = console or Console()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    logging.getLogger("remote_gym").setLevel(logging.DEBUG if args.debug else logging.INFO)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args, console))
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except RemoteGymError as exc:
        if args.debug:
            raise
        console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
