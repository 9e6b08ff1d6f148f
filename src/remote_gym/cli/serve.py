"""`remote-gym serve`: host Gymnasium ids or entrypoint files until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator

from pythonjsonlogger.json import JsonFormatter
from rich.console import Console

from remote_gym._constants import (
    DEFAULT_MAX_KWARGS_BYTES,
    DEFAULT_PORT,
    DEFAULT_RESUME_WINDOW_S,
    DEFAULT_SERVER_SPIN_US,
)
from remote_gym.cli.dial_options import add_dial_arguments
from remote_gym.cli.lane_options import add_network_lane_arguments, describe_network_lane
from remote_gym.cli.logs import logging_to
from remote_gym.cli.options import (
    add_server_tls_arguments,
    add_token_argument,
    hosting_mode,
    json_object,
)
from remote_gym.cli.serve_config import build_config
from remote_gym.server.config import ServerConfig
from remote_gym.server.server import EnvServer
from remote_gym.transport.tls import is_loopback

EXAMPLES = """\
examples:
  remote-gym serve CartPole-v1
  remote-gym serve CartPole-v1 Acrobot-v1 --host 0.0.0.0 --port 56765
  remote-gym serve --entrypoint envs/entry.py --kwargs '{"level": 3}' --allow-kwargs level
  remote-gym serve --repo https://git.example.org/lab/envs.git --reference v1.2 \\
      --entrypoint envs/entry.py                                     # a file of that repository
  remote-gym serve CartPole-v1 --cert certs/server.pem --key certs/server-key.pem            # TLS
  remote-gym serve CartPole-v1 --cert certs/server.pem --key certs/server-key.pem \\
      --ca certs/ca.pem                                                                      # mutual TLS

Clients may only pick among the environments named here and set the kwargs allowed here."""

_STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGBREAK")
"""Signals that stop the server like Ctrl-C (SIGBREAK: CTRL_BREAK_EVENT on Windows)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="host environments for remote clients",
        description="Host Gymnasium environments for remote clients until Ctrl-C or SIGTERM. Each client "
        "session gets its own environment (in its own worker process by default, forked on Linux and spawned elsewhere).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "envs", nargs="*", metavar="ENV", help="registered Gymnasium id(s) to host; the first is the default"
    )
    parser.add_argument(
        "--entrypoint",
        action="append",
        default=[],
        metavar="FILE",
        help="Python file defining create_environment(enable_rendering, env_id, **kwargs); hosted under "
        "the file's name (repeatable)",
    )
    parser.add_argument(
        "--pettingzoo",
        action="append",
        default=[],
        metavar="ID",
        help="PettingZoo env to host for remote_gym.pettingzoo clients: a registry id "
        "(butterfly/pistonball-v6), a module, or module:callable; hosted under that name (repeatable)",
    )
    parser.add_argument(
        "--repo",
        metavar="URL",
        help="git repository the --entrypoint files are in (paths relative to its root): the reference "
        "is resolved to a commit and checked out into a cache first",
    )
    parser.add_argument(
        "--reference",
        metavar="REF",
        help="branch, tag or commit of --repo (default: its default branch)",
    )
    parser.add_argument(
        "--repo-cache",
        metavar="DIR",
        help="where --repo checkouts are kept, one per repository and commit "
        "(default: $REMOTE_GYM_REPO_CACHE, else ~/.cache/remote-gym/repos)",
    )
    parser.add_argument(
        "--kwargs",
        type=json_object,
        default={},
        metavar="JSON",
        help="keyword arguments for the environments",
    )
    parser.add_argument(
        "--allow-kwargs",
        metavar="NAMES",
        help="comma-separated kwargs clients may set, '*' for any, '' for none (default: the keys of --kwargs)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 for every interface")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default: {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="also serve the gRPC health service alone, in plaintext, on PORT (for Kubernetes grpc "
        "probes, which cannot speak TLS)",
    )
    parser.add_argument(
        "--max-sessions", type=int, default=256, metavar="N", help="sessions open at once (0: unlimited)"
    )
    parser.add_argument(
        "--hosting",
        type=hosting_mode,
        default="auto",
        metavar="{process,in-process,auto}",
        help="process: a worker process per session (isolated); in-process: envs run in the server; "
        "auto (default): process",
    )
    parser.add_argument(
        "--worker-start",
        choices=("auto", "fork", "spawn"),
        default="auto",
        help="how worker processes start: fork (from a preloaded zygote), spawn (fresh interpreters: "
        "every OS), auto (default): fork on Linux, spawn elsewhere",
    )
    parser.add_argument(
        "--warm-workers",
        type=int,
        default=0,
        metavar="N",
        help="with spawn: keep N workers started and preloaded, so a session starts at once",
    )
    parser.add_argument(
        "--lane-transport",
        choices=("auto", "unix", "tcp"),
        default="auto",
        help="the same-host lane's socket: unix, tcp (127.0.0.1), auto (default): unix where available",
    )
    parser.add_argument(
        "--grace", type=float, default=5.0, metavar="S", help="seconds open sessions get at shutdown"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=None,
        metavar="S",
        help="on SIGTERM, SIGHUP or Ctrl-C, drain first (rolling upgrades): refuse new sessions "
        "(ServerDrainingError: clients go elsewhere), let open ones run up to S seconds, then end them",
    )
    add_server_tls_arguments(parser)
    add_token_argument(parser, server=True)
    add_dial_arguments(parser)
    add_network_lane_arguments(parser)
    limits = parser.add_argument_group("session limits")
    limits.add_argument(
        "--idle-timeout", type=float, metavar="S", help="end sessions idle for S seconds (default: never)"
    )
    limits.add_argument(
        "--max-call-time", type=float, metavar="S", help="stop a worker whose step takes over S seconds"
    )
    limits.add_argument(
        "--resume-window",
        type=float,
        metavar="S",
        default=DEFAULT_RESUME_WINDOW_S,
        help="seconds a session waits for its client after a dropped connection "
        f"(default: {DEFAULT_RESUME_WINDOW_S:g})",
    )
    limits.add_argument(
        "--max-kwargs-bytes",
        type=int,
        metavar="N",
        default=DEFAULT_MAX_KWARGS_BYTES,
        help=f"largest JSON text of env kwargs a client may send (default: {DEFAULT_MAX_KWARGS_BYTES})",
    )
    limits.add_argument(
        "--spin-us",
        "--worker-spin-us",
        dest="spin_us",
        type=float,
        metavar="US",
        default=DEFAULT_SERVER_SPIN_US,
        help="while one session has the server to itself, the server polls this many µs for its next "
        f"request and for its worker's reply before sleeping; 0: never (default: {DEFAULT_SERVER_SPIN_US:g})",
    )
    monitoring = parser.add_argument_group("monitoring")
    monitoring.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (HTTPS with --cert; --token applies)",
    )
    monitoring.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="serve a live page of the sessions at http://127.0.0.1:PORT/ (on HOST only with TLS and a token)",
    )
    monitoring.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per log event, for log shippers (default: text)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Serve until Ctrl-C, SIGTERM or SIGHUP; returns the exit code."""
    config = build_config(args)
    stop = threading.Event()
    logs = json_logs() if args.log_format == "json" else contextlib.nullcontext()
    with logs, _stop_on_signals(stop):
        server = EnvServer(config).start()
        try:
            _print_banner(console, config, server)
            while not stop.wait(0.25):
                pass
            console.print(f"stopping: no new sessions; open ones get {args.drain or args.grace:g} s")
        except KeyboardInterrupt:
            console.print(f"interrupted: stopping; open sessions get {args.drain or args.grace:g} s")
        finally:
            if args.drain:
                server.drain(args.drain, args.grace)
            else:
                server.stop(args.grace)
    console.print("server stopped")
    return 0


@contextlib.contextmanager
def json_logs() -> Iterator[None]:
    """Meanwhile, log one JSON object per event to stderr: time, level, logger, message, the event's fields.

    The fields of the server's events (``event``, ``session_id``, ``env``, ``reason``, ``peer``) are
    named like the metrics' labels.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    )
    with logging_to(handler):
        yield


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    # Signal handlers can only be set from the main thread; elsewhere (embedded use) rely on Ctrl-C.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for name in _STOP_SIGNALS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _print_banner(console: Console, config: ServerConfig, server: EnvServer) -> None:
    if config.dial:
        hubs = ", ".join(config.dial)
        console.print(f"remote-gym host {config.dial_name}: dialing {hubs} (no listener)", highlight=False)
        return
    tls = config.tls
    mode = "mutual TLS" if tls and tls.mutual else "TLS" if tls else "no TLS"
    listen = f"[{config.host}]" if ":" in config.host else config.host
    console.print(
        f"remote-gym serving on {listen}:{server.port} ({mode}, hosting={config.hosting}, "
        f"workers by {config.worker_start}, "
        f"max sessions={config.max_sessions or 'unlimited'}{describe_network_lane(config)})",
        soft_wrap=True,
        highlight=False,
    )
    for i, entry in enumerate(config.environments):
        what = entry.gym_id or entry.entrypoint or f"PettingZoo {entry.pettingzoo}"
        if entry.repo is not None and entry.commit is not None:
            what = f"{entry.entrypoint} ({entry.repo} at {entry.commit[:12]})"
        default = " (default)" if i == 0 else ""
        allowed = ", ".join(entry.allowed_list()) or "none"
        console.print(
            f"  {entry.name}{default}: {what}; clients may set: {allowed}", soft_wrap=True, highlight=False
        )
    if tls is None and not is_loopback(config.host):
        console.print(
            "[yellow]warning:[/] no TLS on a non-loopback address: anyone who reaches this port can open "
            "sessions; see `remote-gym certs`",
            soft_wrap=True,
        )
    for what, endpoint, path in (
        ("metrics", server.metrics_endpoint, "metrics"),
        ("monitoring page", server.web_endpoint, ""),
    ):
        if endpoint is not None:
            console.print(f"  {what}: {endpoint.url}{path}", soft_wrap=True, highlight=False)
    flags = ""
    if tls is not None:
        flags = " --ca ca.pem" + (" --cert client.pem --key client-key.pem" if tls.mutual else "")
    console.print(
        f"connect with: remote-gym interact {server.address}{flags}; stop with Ctrl-C",
        soft_wrap=True,
        highlight=False,
    )
