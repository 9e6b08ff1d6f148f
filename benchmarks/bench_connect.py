"""Connect + first reset: the time from RemoteEnvironment(...) to the first observation, process hosting.

Usage:
    uv run python benchmarks/bench_connect.py            # 5 rounds of 5 samples
    uv run python benchmarks/bench_connect.py --quick    # a smoke run

Method: common.py.
"""

from __future__ import annotations

import sys
import time

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip

from remote_gym import RemoteEnvironment


def connect_and_reset_s(port: int) -> float:
    """Seconds from creating a RemoteEnvironment to its first reset's observation."""
    start = time.perf_counter()
    env = RemoteEnvironment(url="127.0.0.1", port=port)
    env.reset(seed=0)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Measure connect + first reset and print the table."""
    parser = common.parser(__doc__)
    parser.add_argument("--connects", type=int, default=5, help="connect+reset samples per round (default 5)")
    args = parser.parse_args(argv)
    if args.quick:
        args.connects = 2
    rows = {"connect": common.Row("connect + first reset", "ms", note="process hosting, CartPole-v1")}
    with common.Bench(args) as bench:
        port = bench.server("CartPole-v1")
        measures = [("connect", lambda: connect_and_reset_s(port) * 1e3)] * args.connects
        bench.run_rounds(rows, measures)
        return bench.finish("connect", rows, {}, [])


if __name__ == "__main__":
    sys.exit(main())
