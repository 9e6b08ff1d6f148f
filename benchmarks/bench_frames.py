"""Large observations: a 210x160x3 uint8 frame per step, remote over the lane and over gRPC, against local.

Usage:
    uv run python benchmarks/bench_frames.py            # 5 rounds
    uv run python benchmarks/bench_frames.py --quick    # a smoke run

--steps is CartPole's step count, as for the other scripts: frames are measured over a tenth of it
(at least 100). Method: common.py.
"""

from __future__ import annotations

import sys

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip
import gymnasium as gym

from remote_gym.testing.envs import IMPORTABLE_ENV_IDS

FRAME_ENV = IMPORTABLE_ENV_IDS["Frame"]


def main(argv: list[str] | None = None) -> int:
    """Measure the frame rows and print the table."""
    args = common.parser(__doc__).parse_args(argv)
    rows = {
        "frame_local": common.Row(
            "local 210x160x3 uint8 obs env", "steps/s", note="no network", kind="local"
        ),
        "frame_remote": common.Row("remote 210x160x3 uint8 obs env", "steps/s", note="process hosting, lane"),
        "frame_grpc": common.Row(
            "remote 210x160x3 uint8 obs env, gRPC path", "steps/s", note="process hosting"
        ),
    }
    with common.Bench(args) as bench:
        steps = max(100, args.steps // 10)
        port = bench.server(FRAME_ENV)
        bench.run_rounds(
            rows,
            [
                ("frame_local", lambda: common.steps_per_s(gym.make(FRAME_ENV), steps)),
                ("frame_remote", lambda: common.remote(port, steps)),
                ("frame_grpc", lambda: common.remote(port, steps, lane=False)),
            ],
        )
        local = rows["frame_local"].median
        ratios = {
            "frame_vs_local": rows["frame_remote"].median / local,
            "frame_grpc_vs_local": rows["frame_grpc"].median / local,
        }
        return bench.finish(
            "210x160x3 frames",
            rows,
            ratios,
            [
                f"210x160x3 frames over the lane: {100 * ratios['frame_vs_local']:.0f}% of the local env's "
                f"steps/s (gRPC path {100 * ratios['frame_grpc_vs_local']:.0f}%)."
            ],
        )


if __name__ == "__main__":
    sys.exit(main())
