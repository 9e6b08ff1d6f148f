"""`remote-gym top`: a live table of a server's sessions and totals, refreshed each second until Ctrl-C."""

from __future__ import annotations

import argparse
import time
import urllib.parse
from collections.abc import Sequence

from rich import box
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
        description="Show a server's open sessions (env, peer, path, age, steps, steps/s, step time p50/p99, "
        "bytes in and out, state, worker memory; a narrow terminal shows fewer columns) and its totals, refreshed every second until Ctrl-C. Opens no session.",
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
        # A hub counts what it relays (same-host lane steps bypass it); its hosts' lines count their own.
        f"{'relayed steps' if stats.hub_hosts else 'steps'} {t.steps} ({sum(rates.values()):.0f}/s)",
        f"resets {t.resets}",
        f"crashes {t.worker_crashes}",
        f"env restarts {t.env_restarts}",
        f"refusals {t.refusals}",
        f"resumes {t.session_resumes}",
        f"worker memory {_mib(t.workers_resident_bytes)}",
    )
    hosts = [_host_figures(host) for host in stats.hub_hosts]
    return Group(summary, *hosts, SessionsTable(stats.sessions, rates))


def _host_figures(host: pb.HubHostStats) -> Figures:
    """One line of a hub's host: its own figures, or why they are missing."""
    name = Text(f"host {host.name}", "bold")
    if host.missing:
        return Figures(name, host.state, f"figures missing: {host.missing}")
    t = host.stats.totals
    return Figures(
        name,
        f"remote-gym {host.stats.server_version}",
        f"up {_age(host.stats.uptime_s)}",
        f"sessions opened {t.sessions_opened}",
        f"steps {t.steps}",
        f"crashes {t.worker_crashes}",
        f"env restarts {t.env_restarts}",
        f"worker memory {_mib(t.workers_resident_bytes)}",
    )


COLUMNS: tuple[tuple[str, str, int], ...] = (
    # (header, justify, priority): the lower the priority, the sooner a narrow terminal drops it.
    ("session", "left", 100),
    ("env", "left", 100),
    ("host", "left", 10),
    ("peer", "left", 1),
    ("path", "left", 7),
    ("age", "right", 2),
    ("steps", "right", 5),
    ("steps/s", "right", 9),
    ("p50", "right", 6),
    ("p99", "right", 8),
    ("in", "right", 3),
    ("out", "right", 3),
    ("state", "left", 100),
    ("mem", "right", 4),
)
"""The session table's columns, all shown from about 120 terminal columns (a hub's too); the host
column only on a hub. Env and state are never dropped nor cut."""
SESSION_COLUMN, HOST_COLUMN, PEER_COLUMN = 0, 2, 3
SHORT_ID = 6
"""Characters of a session id shown when the whole table does not fit."""
GAP = 2
"""Spaces between two columns."""
_SHORTENINGS = ((False, False), (False, True), (True, True))
"""(ids shortened, peers without their port), tried in turn before any column is dropped."""


class SessionsTable:
    """The sessions as a table that fits the width it is given: it shortens peers and ids, then drops
    columns by priority. Each column is as wide as its widest cell, so nothing is ever cut."""

    def __init__(self, sessions: Sequence[pb.SessionStats], rates: dict[str, float]) -> None:
        self.rows = [_cells(row, rates.get(row.session_id, 0.0)) for row in sessions]
        self.hub = any(row.host for row in sessions)
        """Whether the rows are a hub's (then a host column says where each session runs)."""

    def layout(self, width: int) -> tuple[list[int], list[int], tuple[bool, bool]]:
        """``(shown columns, their widths, (ids shortened, peers shortened))`` for ``width`` characters."""
        shown = [i for i in range(len(COLUMNS)) if self.hub or i != HOST_COLUMN]
        for shortened in _SHORTENINGS:
            widths = [
                max([len(COLUMNS[i][0])] + [len(_shorten(row[i], i, shortened)) for row in self.rows])
                for i in range(len(COLUMNS))
            ]
            by_priority = sorted(shown, key=lambda i: COLUMNS[i][2])
            kept = list(shown)
            while (
                sum(widths[i] for i in kept) + GAP * (len(kept) - 1) > width
                and COLUMNS[by_priority[0]][2] < 100
            ):
                kept.remove(by_priority.pop(0))
            if len(kept) == len(shown) or shortened == _SHORTENINGS[-1]:
                return kept, [widths[i] for i in kept], shortened
        raise AssertionError("unreachable")  # pragma: no cover

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        kept, widths, shortened = self.layout(options.max_width)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, GAP - 1, 0, 0))
        for i, cells in zip(kept, widths, strict=True):
            header, justify, _ = COLUMNS[i]
            table.add_column(header, justify=justify, no_wrap=True, width=cells)  # type: ignore[arg-type]
        for row in self.rows:
            table.add_row(*(_shorten(row[i], i, shortened) for i in kept))
        if not self.rows:
            table.caption = "no session open"
        yield table


def _cells(row: pb.SessionStats, rate: float) -> list[str]:
    peer = urllib.parse.unquote(row.peer).removeprefix("ipv4:").removeprefix("ipv6:")
    return [
        row.session_id,
        f"{row.env} ×{row.num_envs}" if row.num_envs else row.env,
        row.host,
        peer.removesuffix(f" -> host {row.host}") if row.host else peer,  # a hub's peer names the host
        row.path,
        _short_age(row.age_s),
        _count(row.steps),
        f"{rate:.0f}",
        _ms(row.latency_p50_s),
        _ms(row.latency_p99_s),
        _bytes(row.received_bytes),
        _bytes(row.sent_bytes),
        f"{row.state} (busy)" if row.busy else row.state,
        _mem(row.worker_resident_bytes),
    ]


def _shorten(text: str, column: int, shortened: tuple[bool, bool]) -> str:
    short_ids, short_peers = shortened
    if column == SESSION_COLUMN and short_ids:
        return text[:SHORT_ID]
    if column == PEER_COLUMN and short_peers:
        address, colon, port = text.rpartition(":")
        return address if colon and port.isdigit() and address else text
    return text


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


def _short_age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    return f"{seconds / 3600:.1f}h" if seconds < 36000 else f"{seconds / 3600:.0f}h"


def _count(n: int) -> str:
    return str(n) if n < 1_000_000 else _scaled(n / 1e6, "M")


def _scaled(value: float, unit: str) -> str:
    return f"{value:.1f}{unit}" if value < 9.95 else f"{value:.0f}{unit}"


def _ms(seconds: float) -> str:
    """A step time in at most 6 characters: ``0.15ms``, ``12.3ms``, ``250ms``, ``1.20s``."""
    if not seconds:
        return "–"
    if seconds < 0.00995:
        return f"{seconds * 1e3:.2f}ms"
    if seconds < 0.0995:
        return f"{seconds * 1e3:.1f}ms"
    return f"{seconds * 1e3:.0f}ms" if seconds < 0.9995 else f"{seconds:.2f}s"


def _bytes(size: int) -> str:
    """A byte count in at most 5 characters: ``85B``, ``1.2k``, ``340k``, ``12M`` (powers of 1024)."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("k", 1 << 10)):
        if size >= scale:
            return _scaled(size / scale, unit)
    return f"{size}B"


def _mem(size: int) -> str:
    """Resident memory in MiB (``36M``) or GiB (``1.5G``), ``–`` when unknown."""
    if not size:
        return "–"
    return _scaled(size / (1 << 30), "G") if size >= 1 << 30 else _scaled(size / (1 << 20), "M")


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB" if size else "–"
