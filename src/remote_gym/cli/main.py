"""`remote-gym` entry point: builds the parser, dispatches subcommands, maps errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.logging import RichHandler

from remote_gym._version import __version__
from remote_gym.cli.logs import logging_to
from remote_gym.errors import RemoteGymError

EXAMPLES = """\
examples:
  remote-gym demo                                   # a local server and client, nothing to set up
  remote-gym serve CartPole-v1 --host 0.0.0.0       # host an environment
  remote-gym interact 192.168.1.20:56765            # play it from another machine
  remote-gym top 192.168.1.20:56765                 # watch its sessions live
  remote-gym hub --host 0.0.0.0 --host-token T      # a hub that env hosts behind NAT dial out to
  remote-gym bench                                  # how fast is it here?
  remote-gym certs --host 192.168.1.20              # certificates for TLS / mutual TLS
  remote-gym ray launch CartPole-v1 --servers 4     # servers on a Ray cluster

`remote-gym COMMAND --help` shows each command's options and examples."""


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand."""
    from remote_gym.cli import bench, certs, cluster, demo, hub, interact, serve, top

    parser = argparse.ArgumentParser(
        prog="remote-gym",
        description="Host Gymnasium environments on one machine and use them from another.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"remote-gym {__version__}")
    parser.add_argument("--debug", action="store_true", help="verbose logs and full tracebacks")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (demo, serve, hub, interact, top, bench, certs, cluster):
        module.add_parser(subparsers)
    # --debug also after the command (`remote-gym serve --debug ...`); SUPPRESS keeps a root --debug.
    for subparser in {id(p): p for p in subparsers.choices.values()}.values():
        subparser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="verbose logs and full tracebacks"
        )
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 failure, 2 usage error, 130 interrupted)."""
    console = console or Console()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    # With --json the output is for machines: logs go to stderr so that stdout stays pure JSON.
    log_console = Console(stderr=True) if getattr(args, "json", False) else console
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    level = logging.DEBUG if args.debug else logging.INFO
    with logging_to(RichHandler(console=log_console, show_path=False, level=level), level):
        try:
            return int(args.run(args, console))
        except KeyboardInterrupt:
            console.print("interrupted")
            return 130
        except Exception as exc:
            if args.debug:
                raise
            console.print(_one_line(exc), soft_wrap=True, highlight=False, markup=False)
            return 1


def _one_line(exc: BaseException) -> str:
    # What failed (the message), what to do (our messages say it); the first line only: a remote
    # traceback is behind --debug.
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if isinstance(exc, RemoteGymError):
        more = " (more with --debug)" if len(lines) > 1 else ""
        return f"error: {first}{more}"
    return f"error: unexpected {type(exc).__name__}: {first} (run again with --debug for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
