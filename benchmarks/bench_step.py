"""One remote CartPole step, every way it can travel, against the local env and the gRPC floor.

Usage:
    uv run python benchmarks/bench_step.py            # 5 rounds, a few seconds each
    uv run python benchmarks/bench_step.py --quick    # a smoke run
    uv run python benchmarks/bench_step.py --json     # machine-readable
    uv run python benchmarks/bench_step.py --seed-python .venv-073/bin/python   # and remote-gym 0.7.3

Rows: worker process per session over the same-host lane and over gRPC, a server in this very
process (as in tests and notebooks), no polling, inline hosting, plaintext on 0.0.0.0 and TLS; the
floors of bench_floor.py are measured in the same rounds for the × floor columns. Method: common.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip
import gymnasium as gym

from remote_gym import TLSConfig
from remote_gym.testing.server import running_server
from remote_gym.transport.certs import generate_dev_certs

ROWS = (
    ("process", "remote CartPole-v1, process hosting", "default: same-host lane"),
    (
        "process_grpc",
        "remote CartPole-v1, process hosting, gRPC path",
        "same_host_lane=False; local credentials",
    ),
    (
        "inproc",
        "remote CartPole-v1, server in the client's process",
        "running_server(), process hosting, lane",
    ),
    ("inproc_grpc", "same, gRPC path", "running_server(), process hosting, same_host_lane=False"),
    ("nopoll", "remote CartPole-v1, process hosting, no polling", "spin_us=0, spin_us=0; gRPC path"),
    ("inline", "remote CartPole-v1, inline hosting", "local credentials"),
    ("plain", "remote CartPole-v1, plaintext, gRPC path", "server on 0.0.0.0, process hosting"),
    ("tls", "remote CartPole-v1, TLS, gRPC path", "process hosting"),
)


def in_process(steps: int, *, lane: bool = True) -> float:
    """Steps/s through a server running in this very process (as in tests, notebooks, `remote-gym demo`).

    Started for this measurement only, so that no other row runs beside a server in its process.
    """
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", grace=0.1) as server:
        return common.remote(server.port, steps, lane=lane)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = common.parser(__doc__)
    parser.add_argument(
        "--seed-python",
        metavar="PYTHON",
        help="interpreter of a separate venv with remote-gym 0.7.3, to measure the predecessor too (see seed_073.py)",
    )
    parser.add_argument(
        "--connects", type=int, default=5, help="connect+reset samples per round of 0.7.3 (default 5)"
    )
    args = parser.parse_args(argv)
    request_size, reply_size = common.message_sizes()
    rows = {
        "local": common.Row("local CartPole-v1 (gym.make)", "steps/s", note="no network", kind="local"),
        **common.floor_rows(request_size, reply_size),
        **{key: common.Row(name, "steps/s", note=note) for key, name, note in ROWS},
    }
    with tempfile.TemporaryDirectory() as tmp, common.Bench(args) as bench:
        certs = generate_dev_certs(tmp)
        tls = TLSConfig(ca=certs.ca)
        ports = {
            "floor_default": bench.echo_server(reply_size, experiments=common.GRPC_DEFAULTS),
            "floor": bench.echo_server(reply_size),
            "process": bench.server("CartPole-v1"),
            "nopoll": bench.server("CartPole-v1", spin_us=0),
            "inline": bench.server("CartPole-v1", hosting="inline"),
            "plain": bench.server("CartPole-v1", host="0.0.0.0"),
            "tls": bench.server(
                "CartPole-v1", server_credentials_paths=(str(certs.server_cert), str(certs.server_key))
            ),
        }
        steps = args.steps
        bench.run_rounds(
            rows,
            [
                ("local", lambda: common.steps_per_s(gym.make("CartPole-v1"), steps)),
                (
                    "floor_default",
                    lambda: bench.floor(ports["floor_default"], request_size, common.GRPC_DEFAULTS),
                ),
                ("floor", lambda: bench.floor(ports["floor"], request_size)),
                ("process", lambda: common.remote(ports["process"], steps)),
                ("process_grpc", lambda: common.remote(ports["process"], steps, lane=False)),
                ("inproc", lambda: in_process(steps)),
                ("inproc_grpc", lambda: in_process(steps, lane=False)),
                ("nopoll", lambda: common.remote(ports["nopoll"], steps, poll=False, lane=False)),
                ("inline", lambda: common.remote(ports["inline"], steps)),
                ("plain", lambda: common.remote(ports["plain"], steps, lane=False)),
                ("tls", lambda: common.remote(ports["tls"], steps, tls, lane=False)),
            ],
        )
        if args.seed_python:
            rows.update(seed_rows(args))
        report = common.report_of(rows, args, bench.placement)["rows"]
        process, grpc_path = report["process"], report["process_grpc"]
        ratios = {
            "process_vs_local": rows["local"].median / rows["process"].median,
            "inproc_vs_process": rows["process"].median / rows["inproc"].median,
            "inproc_grpc_vs_process_grpc": rows["process_grpc"].median / rows["inproc_grpc"].median,
        }
        return bench.finish(
            "remote-gym single env",
            rows,
            ratios,
            [
                f"floor = one bare grpc.aio round trip with remote-gym's gRPC transport: "
                f"{1e6 / rows['floor'].median:,.0f} µs (with gRPC's default transport: "
                f"{1e6 / rows['floor_default'].median:,.0f} µs).",
                f"Same-host lane: {process['us_per_step']:,.1f} µs per step = {process['x_floor']:.2f} × floor, "
                f"{process['x_default_floor']:.2f} × default floor (gRPC path: {grpc_path['us_per_step']:,.0f} µs "
                f"= {grpc_path['x_floor']:.2f} × floor); {ratios['process_vs_local']:,.1f} × the local step. "
                f"Server in the client's process: {ratios['inproc_vs_process']:.2f} × the time per step of one "
                f"in its own process (lane), {ratios['inproc_grpc_vs_process_grpc']:.2f} × (gRPC path).",
            ],
        )


def seed_rows(args: argparse.Namespace) -> dict[str, common.Row]:
    """remote-gym 0.7.3, measured by seed_073.py in its own venv after the rounds above."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_073.py")
    out = subprocess.run(
        [args.seed_python, script, str(args.rounds), str(args.steps), str(args.connects)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "seed": common.Row(
            "remote-gym 0.7.3 CartPole-v1 (use_thread=True)",
            "steps/s",
            data["steps_per_s"],
            "measured after the rounds above",
            kind="local",
        ),
        "seed_connect": common.Row(
            "remote-gym 0.7.3 connect + first reset", "ms", [s * 1e3 for s in data["connect_s"]]
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
