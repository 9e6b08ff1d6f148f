"""`remote-gym bench`: steps/s and step latency through a server, beside the local env."""

from __future__ import annotations

import argparse
import json
import logging
import math

from rich.console import Console
from rich.table import Table

from remote_gym.bench import DEFAULT_NUM_ENVS, DEFAULT_RUNS, DEFAULT_STEPS, BenchReport, run_benchmark
from remote_gym.cli.options import add_client_tls_arguments, client_tls, hosting_mode, positive_int

EXAMPLES = """\
examples:
  remote-gym bench                                  # embedded server on 127.0.0.1, CartPole-v1
  remote-gym bench --env Acrobot-v1 --num-envs 16 --steps 5000
  remote-gym bench 192.168.1.20:56765 --env CartPole-v1 --ca certs/ca.pem
  remote-gym bench --json > bench.json"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="measure steps/s and latency through a server, beside the local env",
        description="Measure environment steps per second and step-call latency (p50/p99) through a "
        "remote-gym server -- a running one, or one embedded on 127.0.0.1 -- and the same environment "
        "run locally in this process, for 1 env and for a vector of N envs.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("address", nargs="?", help="server host:port (default: start an embedded server)")
    parser.add_argument(
        "--env",
        metavar="ID",
        help="environment (default: CartPole-v1 embedded; the server's default at an address)",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=DEFAULT_STEPS,
        help=f"timed step calls per run (default: {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--runs",
        type=positive_int,
        default=DEFAULT_RUNS,
        help=f"runs per measurement; the median is shown (default: {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--num-envs",
        type=positive_int,
        default=DEFAULT_NUM_ENVS,
        metavar="N",
        help=f"vector size (default: {DEFAULT_NUM_ENVS})",
    )
    parser.add_argument("--no-vector", action="store_true", help="measure the single env only")
    parser.add_argument(
        "--hosting",
        type=hosting_mode,
        default="auto",
        metavar="{process,in-process,auto}",
        help="embedded server's hosting mode (default: auto, process where the platform allows it)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON (for scripts)")
    add_client_tls_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the benchmark and print a table or JSON; returns the exit code."""
    env = args.env or (None if args.address else "CartPole-v1")
    kwargs = {
        "env": env,
        "address": args.address,
        "tls": client_tls(args),
        "num_envs": args.num_envs,
        "steps": args.steps,
        "runs": args.runs,
        "hosting": args.hosting,
        "vector": not args.no_vector,
    }
    # The embedded server's session lines would clutter the table and corrupt the JSON document.
    package_logger = logging.getLogger("remote_gym")
    level = package_logger.level
    if not args.debug:
        package_logger.setLevel(logging.WARNING)
    try:
        if args.json:
            report = run_benchmark(**kwargs)
            console.out(json.dumps(_finite(report.to_dict()), indent=2), highlight=False)
            return 0
        with console.status("measuring") as status:
            report = run_benchmark(**kwargs, progress=lambda what: status.update(f"measuring {what}"))
    finally:
        package_logger.setLevel(level)
    console.print(report_table(report))
    return 0


def report_table(report: BenchReport) -> Table:
    """The report as a table with its notes as the caption."""
    table = Table(title=f"{report.env} via {report.server}")
    for name in ("where", "envs", "env-steps/s", "vs local", "step p50 (µs)", "step p99 (µs)"):
        table.add_column(name, justify="left" if name == "where" else "right")
    for m in report.measurements:
        table.add_row(
            m.target,
            str(m.num_envs),
            f"{m.env_steps_per_s:,.0f}",
            f"{m.vs_local:.3g}x" if m.vs_local is not None else "-",
            f"{m.call_p50_us:,.0f}",
            f"{m.call_p99_us:,.0f}",
        )
    first = report.measurements[0] if report.measurements else None
    runs = f"medians of {first.runs} runs x {first.calls_per_run} calls" if first else ""
    table.caption = "; ".join(filter(None, [runs, report.placement, *report.notes]))
    return table


def _finite(value: object) -> object:
    # JSON has no NaN/inf; write null instead.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
