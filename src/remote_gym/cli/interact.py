"""`remote-gym interact` (alias `play`): a random agent plays episodes on a server; a summary table."""

from __future__ import annotations

import argparse
import contextlib
import time

from rich.console import Console

from remote_gym._constants import DEFAULT_PORT
from remote_gym.cli.episodes import results_table, run_episodes
from remote_gym.cli.options import (
    add_client_connection_arguments,
    add_client_tls_arguments,
    add_token_argument,
    client_tls,
    json_object,
    positive_int,
    token,
)
from remote_gym.client.config import Timeouts
from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.recorder import VideoRecorder, check_video_support
from remote_gym.client.viewer import FrameViewer

EXAMPLES = f"""\
examples:
  remote-gym interact                                  # 127.0.0.1:{DEFAULT_PORT}, the server's default env
  remote-gym interact 192.168.1.20:{DEFAULT_PORT} --env Acrobot-v1 --episodes 20
  remote-gym play 127.0.0.1:{DEFAULT_PORT} --render            # watch it in a local window
  remote-gym interact --record out.mp4 --episodes 1     # needs: pip install 'remote-gym[record]'
  remote-gym interact gpu-box:{DEFAULT_PORT} --ca certs/ca.pem --cert certs/client.pem --key certs/client-key.pem"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``interact`` subcommand and its ``play`` alias."""
    parser = subparsers.add_parser(
        "interact",
        aliases=["play"],
        help="connect to a server and play episodes with a random agent",
        description="Connect to a remote-gym server like a trainer would, play episodes with uniformly "
        "random actions, and print returns, lengths, steps/s and step latencies.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_client_connection_arguments(parser)
    parser.add_argument(
        "--env", metavar="NAME", help="environment to create, among those hosted (default: the server's)"
    )
    parser.add_argument(
        "--kwargs", type=json_object, default={}, metavar="JSON", help="environment kwargs the server allows"
    )
    parser.add_argument(
        "--episodes", type=positive_int, default=5, metavar="N", help="episodes to play (default: 5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default: 0)")
    parser.add_argument("--max-steps", type=positive_int, metavar="N", help="cut every episode after N steps")
    parser.add_argument(
        "--render", action="store_true", help="show the frames in a local window (needs pygame)"
    )
    parser.add_argument(
        "--render-mode", choices=("human", "rgb_array"), help="render mode to ask for (--render means human)"
    )
    parser.add_argument(
        "--record", metavar="FILE.mp4", help="save the rendered frames as a video (needs remote-gym[record])"
    )
    add_client_tls_arguments(parser)
    add_token_argument(parser, server=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Connect, play, print the table; returns the exit code."""
    tls = client_tls(args)
    address = with_port(args.address)
    render_mode = "human" if args.render else args.render_mode
    if args.record:
        check_video_support()  # before connecting: a missing extra should not cost a session
        render_mode = "rgb_array"  # frames come back here, to be written (and shown with --render)
    start = time.perf_counter()
    with RemoteEnvironment(
        address=address,
        env=args.env,
        kwargs=args.kwargs,
        render_mode=render_mode,
        tls=tls,
        timeouts=Timeouts(connect=args.connect_timeout),
        token=token(args),
    ) as env:
        connected = time.perf_counter() - start
        mode = "mutual TLS" if tls and tls.cert else "TLS" if tls else "no TLS"
        console.print(
            f"connected to [bold]{env.env_name}[/] at {address} ({mode}) in {connected * 1e3:.0f} ms; "
            f"server remote-gym {env.server_version}",
            soft_wrap=True,
        )
        console.print(f"observation space: {env.observation_space}", soft_wrap=True, highlight=False)
        console.print(f"action space:      {env.action_space}", soft_wrap=True, highlight=False)
        with contextlib.ExitStack() as stack:
            sink = _frame_sink(env, args, stack) if render_mode == "rgb_array" else None
            results = run_episodes(
                env,
                args.episodes,
                seed=args.seed,
                console=console,
                max_steps=args.max_steps,
                on_transition=sink,
            )
    title = f"{env.env_name} at {address} ({args.episodes} episodes, random agent)"
    console.print(results_table(results, title=title))
    if sink is not None and sink.recorder is not None:
        recorder = sink.recorder
        console.print(f"saved {recorder.frames} frames to {recorder.path}", soft_wrap=True, highlight=False)
    return 0


def with_port(address: str) -> str:
    """``address`` as ``host:port``, adding the default port to a bare host (``[v6]`` kept)."""
    if address.startswith("["):
        return address if "]:" in address else f"{address}:{DEFAULT_PORT}"
    colons = address.count(":")
    if colons == 0:
        return f"{address}:{DEFAULT_PORT}"
    if colons == 1:
        return address
    return f"[{address}]:{DEFAULT_PORT}"  # a bare IPv6 address


class _FrameSink:
    """Fetches the current frame after each transition, then records and/or shows it."""

    def __init__(self, env: RemoteEnvironment, recorder: VideoRecorder | None, viewer: FrameViewer | None):
        self.env = env
        self.recorder = recorder
        self.viewer = viewer

    def __call__(self) -> None:
        frame = self.env.render()
        if frame is None:
            return
        if self.recorder is not None:
            self.recorder.add(frame)
        if self.viewer is not None:
            self.viewer.show(frame)


def _frame_sink(env: RemoteEnvironment, args: argparse.Namespace, stack: contextlib.ExitStack) -> _FrameSink:
    fps = float(env.metadata.get("render_fps") or 30)
    recorder = viewer = None
    if args.record:
        recorder = stack.enter_context(VideoRecorder(args.record, fps=fps))
    if args.render:
        viewer = FrameViewer(title=repr(env), fps=fps)
        stack.callback(viewer.close)
    return _FrameSink(env, recorder, viewer)
