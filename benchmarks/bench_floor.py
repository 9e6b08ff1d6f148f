"""The floor: a bare grpc.aio bidi-stream ping-pong of a CartPole step's message sizes, four ways.

Usage:
    uv run python benchmarks/bench_floor.py            # 5 rounds
    uv run python benchmarks/bench_floor.py --quick    # a smoke run

With gRPC's default transport, with the one remote_gym selects (the floor), with both event loops
polling before they sleep (as remote-gym's do, see remote_gym.transport.spin), and with the server
stepping CartPole in its handler (a minimal env server with no remote-gym code). Local CartPole for
scale. Options and method: see common.py.
"""

from __future__ import annotations

import sys

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip
import gymnasium as gym


def main(argv: list[str] | None = None) -> int:
    """Measure the floors and print the table."""
    args = common.parser(__doc__).parse_args(argv)
    request_size, reply_size = common.message_sizes()
    rows = {
        "local": common.Row("local CartPole-v1 (gym.make)", "steps/s", note="no network", kind="local"),
        **common.floor_rows(request_size, reply_size),
        "floor_poll": common.Row(
            "same, both event loops polling", "round trips/s", note="as remote-gym's loops poll (spin_us)"
        ),
        "floor_env": common.Row(
            "same (not polling) + CartPole step in the echo handler",
            "round trips/s",
            note="no remote-gym code: a minimal env server",
        ),
    }
    with common.Bench(args) as bench:
        ports = {
            "floor_default": bench.echo_server(reply_size, experiments=common.GRPC_DEFAULTS),
            "floor": bench.echo_server(reply_size),
            "floor_poll": bench.echo_server(reply_size, "poll"),
            "floor_env": bench.echo_server(reply_size, "cartpole"),
        }
        bench.run_rounds(
            rows,
            [
                ("local", lambda: common.steps_per_s(gym.make("CartPole-v1"), args.steps)),
                (
                    "floor_default",
                    lambda: bench.floor(ports["floor_default"], request_size, common.GRPC_DEFAULTS),
                ),
                ("floor", lambda: bench.floor(ports["floor"], request_size)),
                ("floor_poll", lambda: bench.floor(ports["floor_poll"], request_size, poll=True)),
                ("floor_env", lambda: bench.floor(ports["floor_env"], request_size)),
            ],
        )
        floor_us, default_us = (1e6 / rows[key].median for key in ("floor", "floor_default"))
        return bench.finish(
            "bare gRPC floor",
            rows,
            {"floor_us": floor_us, "default_floor_us": default_us},
            [
                f"floor = one bare grpc.aio round trip with remote-gym's gRPC transport: {floor_us:,.0f} µs "
                f"(with gRPC's default transport: {default_us:,.0f} µs; both loops polling: "
                f"{1e6 / rows['floor_poll'].median:,.0f} µs)."
            ],
        )


if __name__ == "__main__":
    sys.exit(main())
