"""`remote-gym top`: a live table of a server's sessions and totals, refreshed each second until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.live import Live
from rich.table import Table
from rich.text import Text

from remote_gym._constants import DEFAULT_PORT
from remote_gym.cli.interact import with_port
from remote_gym.cli.options import (
    add_client_connection_arguments,
    add_client_tls_arguments,
    add_token_argument,
    client_tls,
    token,
)
from remote_gym.client.stats import StatsClient
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

EXAMPLES = f"""\
examples:
  remote-gym top                                       # 127.0.0.1:{DEFAULT_PORT}
  remote-gym top gpu-box:{DEFAULT_PORT} --ca certs/ca.pem --cert certs/client.pem --key certs/client-key.pem
  remote-gym top 127.0.0.1:{DEFAULT_PORT} --once                # one table, then exit"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``top`` subcommand."""
    parser = subparsers.add_parser(
        "top",
        help="watch a server's sessions live",
        description="Show a server's open sessions (env, peer, age, steps, steps/s, latency, state, worker "
        "memory) and its totals, refreshed every second until Ctrl-C. Opens no session.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_client_connection_arguments(parser)
    parser.add_argument("--once", action="store_true", help="print one table and exit")
    parser.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="seconds between refreshes (default: 1)"
    )
    add_client_tls_arguments(parser)
    add_token_argument(parser, server=False)
    parser.set_defaults(run=run)


class Rates:
    """Steps per second of each session between two refreshes (over its whole life at first sight)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, float]] = {}

    def update(self, stats: pb.ServerStats, now: float) -> dict[str, float]:
        """The rate of each session in ``stats``, fetched at ``now`` (monotonic seconds)."""
        rates = {}
        last = self._last
        self._last = {}
        for row in stats.sessions:
            before = last.get(row.session_id)
            if before is not None and now > before[1]:
                rates[row.session_id] = (row.steps - before[0]) / (now - before[1])
            else:
                rates[row.session_id] = row.steps / max(row.age_s, 1e-3)
            self._last[row.session_id] = (row.steps, now)
        return rates


class Figures:
    """Figures joined by " · ", wrapped between figures only (never inside "sessions open 1")."""

    def __init__(self, *figures: str | Text) -> None:
        self.figures = [Text(figure) if isinstance(figure, str) else figure for figure in figures]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line = Text()
        for figure in self.figures:
            if line and len(line) + 3 + len(figure) > options.max_width:
                yield line
                line = Text()
            if line:
                line.append(" · ")
            line.append_text(figure)
        yield line


def stats_view(stats: pb.ServerStats, rates: dict[str, float], address: str) -> Group:
    """The server's totals (wrapped between figures) and a table of its sessions."""
    t = stats.totals
    summary = Figures(
        Text(f"remote-gym {stats.server_version} at {address}", "bold"),
        f"up {_age(stats.uptime_s)}",
        f"sessions open {len(stats.sessions)} (opened {t.sessions_opened})",
        f"steps {t.steps} ({sum(rates.values()):.0f}/s)",
        f"resets {t.resets}",
        f"crashes {t.worker_crashes}",
        f"env restarts {t.env_restarts}",
        f"refusals {t.refusals}",
        f"resumes {t.session_resumes}",
        f"worker memory {_mib(t.workers_resident_bytes)}",
    )
    table = Table(expand=False)
    for name, justify in (
        ("session", "left"),
        ("env", "left"),
        ("peer", "left"),
        ("age", "right"),
        ("steps", "right"),
        ("steps/s", "right"),
        ("p50", "right"),
        ("p99", "right"),
        ("state", "left"),
        ("memory", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in stats.sessions:
        env = f"{row.env} ×{row.num_envs}" if row.num_envs else row.env
        state = f"{row.state} (busy)" if row.busy else row.state
        table.add_row(
            row.session_id,
            env,
            row.peer,
            _age(row.age_s),
            str(row.steps),
            f"{rates.get(row.session_id, 0.0):.0f}",
            f"{row.latency_p50_s * 1e3:.2f} ms",
            f"{row.latency_p99_s * 1e3:.2f} ms",
            state,
            _mib(row.worker_resident_bytes),
        )
    if not stats.sessions:
        table.caption = "no session open"
    return Group(summary, table)


def run(args: argparse.Namespace, console: Console) -> int:
    """Show the table once (``--once``) or until Ctrl-C; returns the exit code."""
    address = with_port(args.address)
    rates = Rates()
    with StatsClient(
        address, tls=client_tls(args), token=token(args), timeout=args.connect_timeout
    ) as client:
        stats = client.fetch()
        view = stats_view(stats, rates.update(stats, time.monotonic()), address)
        if args.once:
            console.print(view)
            return 0
        try:
            with Live(view, console=console, refresh_per_second=4, screen=False) as live:
                while True:
                    time.sleep(args.interval)
                    stats = client.fetch()
                    live.update(stats_view(stats, rates.update(stats, time.monotonic()), address))
        except KeyboardInterrupt:
            return 0


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB" if size else "–"
