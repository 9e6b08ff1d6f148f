"""`remote-gym demo`: a local server with CartPole-v1, a client, a few episodes and a summary table."""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from remote_gym.cli.episodes import results_table, run_episodes
from remote_gym.cli.options import hosting_mode
from remote_gym.client.env import RemoteEnvironment
from remote_gym.testing.server import running_server


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run a local server and a client playing a few episodes (no setup needed)",
        description="Start a remote-gym server on 127.0.0.1 hosting an environment, connect to it like a "
        "trainer would, play a few episodes with a random agent and print a summary.",
        epilog="example: remote-gym demo --episodes 10 --env Acrobot-v1",
    )
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium id to host (default: CartPole-v1)")
    parser.add_argument("--episodes", type=int, default=5, help="episodes to play (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument(
        "--hosting",
        type=hosting_mode,
        default="auto",
        metavar="{process,in-process,auto}",
        help="process: a worker process per session; in-process: envs run in the server; "
        "auto (default): process (workers forked on Linux, spawned elsewhere)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the demo; returns the exit code."""
    t0 = time.perf_counter()
    with running_server({args.env: args.env}, hosting=args.hosting) as server:
        console.print(
            f"server listening on [bold]{server.address}[/] hosting [bold]{args.env}[/] "
            f"({server.config.hosting})"
        )
        t1 = time.perf_counter()
        with RemoteEnvironment(address=server.address, env=args.env) as env:
            t2 = time.perf_counter()
            console.print(
                f"connected: {env!r} in {(t2 - t1) * 1e3:.0f} ms (server start {(t1 - t0) * 1e3:.0f} ms)"
            )
            results = run_episodes(env, args.episodes, seed=args.seed, console=console)
    console.print(
        results_table(results, title=f"{args.env} over remote-gym ({args.episodes} episodes, random agent)")
    )
    console.print(
        "[dim]The server and the client shared this process and its interpreter lock. For throughput "
        "figures, run the server on its own (remote-gym serve CartPole-v1) and measure it with "
        "remote-gym bench 127.0.0.1:PORT.[/]"
    )
    return 0
