"""Benchmark one remote environment against the local env and the bare gRPC floor, in one run.

Usage:
    uv run python benchmarks/bench_env.py            # 5 rounds, a few seconds each
    uv run python benchmarks/bench_env.py --quick    # a smoke run
    uv run python benchmarks/bench_env.py --json     # machine-readable

Every round measures every configuration once, in turn, so machine noise spreads over all of them;
the tables show the median over rounds. Servers run in their own processes (never in the client's),
each started the way a user would start one. Placement is not pinned unless --pin is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import gymnasium as gym
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from remote_gym import RemoteEnvironment, TLSConfig
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.transport.certs import generate_dev_certs

FRAME_ENV = IMPORTABLE_ENV_IDS["Frame"]

_SERVER_SCRIPT = """
import sys, json
from remote_gym import create_remote_environment_server
args = json.loads(sys.argv[1])
server = create_remote_environment_server(**args)
print(server.port, flush=True)
sys.stdin.read()
server.stop(0.5)
"""

_ECHO_SERVER_SCRIPT = """
import asyncio, sys, grpc

async def echo(request_iterator, context):
    while True:
        data = await context.read()
        if data is grpc.aio.EOF:
            return
        await context.write(REPLY)

async def main():
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bench.Echo", {"Stream": grpc.stream_stream_rpc_method_handler(echo)})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP))
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(0)

REPLY = bytes(int(sys.argv[1]))
asyncio.run(main())
"""


@contextlib.contextmanager
def _process(script: str, *args: str, cpu: int | None) -> Iterator[int]:
    """Run a server script in its own process; yields the port it printed."""
    with subprocess.Popen(
        [sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            if cpu is not None:
                os.sched_setaffinity(proc.pid, {cpu})
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.strip():
                raise RuntimeError("benchmark server did not start")
            yield int(line)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _server_args(
    env_id: str, *, hosting: str, host: str = "127.0.0.1", tls: tuple[str, ...] | None = None
) -> str:
    return json.dumps(
        {
            "default_args": {"env_id": env_id},
            "url": host,
            "port": 0,
            "hosting": hosting,
            "server_credentials_paths": tls,
        }
    )


def _steps_per_s(env: gym.Env[Any, Any], steps: int) -> float:
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def _floor_round_trips_per_s(port: int, request_bytes: int, n: int) -> float:
    """Bare grpc.aio bidi-stream ping-pong, client driven from its own event loop (no extra threads)."""

    async def run() -> float:
        async with grpc.aio.secure_channel(
            f"127.0.0.1:{port}", grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        ) as channel:
            call = channel.stream_stream("/bench.Echo/Stream")()
            payload = bytes(request_bytes)
            for _ in range(50):
                await call.write(payload)
                await call.read()
            start = time.perf_counter()
            for _ in range(n):
                await call.write(payload)
                await call.read()
            elapsed = time.perf_counter() - start
            await call.done_writing()
            return n / elapsed

    return asyncio.run(run())


def _connect_and_reset_s(port: int, tls: TLSConfig | None = None) -> float:
    start = time.perf_counter()
    env = RemoteEnvironment(url="127.0.0.1", port=port, tls=tls)
    env.reset(seed=0)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


@dataclass
class Row:
    """One configuration's samples over rounds."""

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        """Median over rounds."""
        return statistics.median(self.samples) if self.samples else float("nan")


def _message_sizes() -> tuple[int, int]:
    """Serialized sizes of a CartPole step request and reply, for a same-sized floor."""
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    from remote_gym.codec.values import encode_value

    request = pb.Request()
    encode_value(env.action_space.sample(), request.step.action)
    reply = pb.Response()
    obs, reward, terminated, truncated, info = env.step(0)
    for value, msg in zip(
        (obs, reward, terminated, truncated, info),
        (
            reply.step.observation,
            reply.step.reward,
            reply.step.terminated,
            reply.step.truncated,
            reply.step.info,
        ),
        strict=True,
    ):
        encode_value(value, msg)
    return len(request.SerializeToString()), len(reply.SerializeToString())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians are over rounds; default 5)")
    parser.add_argument(
        "--steps", type=int, default=3000, help="CartPole steps per measurement (default 3000)"
    )
    parser.add_argument("--connects", type=int, default=5, help="connect+reset samples per round (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 round, few steps: a smoke run")
    parser.add_argument("--pin", action="store_true", help="pin the client to CPU 0 and servers to CPU 1")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--seed-python",
        metavar="PYTHON",
        help="interpreter of a separate venv with remote-gym 0.7.3, to measure the predecessor too (see seed_073.py)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.connects = 1, 500, 2
    console = Console(stderr=args.json, width=None if sys.stdout.isatty() else 160)
    client_cpu, server_cpu = (0, 1) if args.pin else (None, None)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    frame_steps = max(100, args.steps // 10)
    request_size, reply_size = _message_sizes()

    rows = {
        key: Row(name, unit, note=note)
        for key, name, unit, note in (
            ("local", "local CartPole-v1 (gym.make)", "steps/s", "no network"),
            (
                "floor",
                "bare grpc.aio bidi ping-pong (floor)",
                "round trips/s",
                f"{request_size} B / {reply_size} B",
            ),
            ("process", "remote CartPole-v1, process hosting", "steps/s", "default; local credentials"),
            ("inline", "remote CartPole-v1, inline hosting", "steps/s", "local credentials"),
            ("plain", "remote CartPole-v1, plaintext", "steps/s", "server on 0.0.0.0, process hosting"),
            ("tls", "remote CartPole-v1, TLS", "steps/s", "process hosting"),
            ("frame_local", "local 210x160x3 uint8 obs env", "steps/s", "no network"),
            ("frame_remote", "remote 210x160x3 uint8 obs env", "steps/s", "process hosting"),
            ("connect", "connect + first reset", "ms", "process hosting, CartPole-v1"),
        )
    }
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        certs = generate_dev_certs(tmp)
        tls_paths = (str(certs.server_cert), str(certs.server_key))
        ports = {
            "floor": stack.enter_context(_process(_ECHO_SERVER_SCRIPT, str(reply_size), cpu=server_cpu)),
            "process": stack.enter_context(
                _process(_SERVER_SCRIPT, _server_args("CartPole-v1", hosting="process"), cpu=server_cpu)
            ),
            "inline": stack.enter_context(
                _process(_SERVER_SCRIPT, _server_args("CartPole-v1", hosting="inline"), cpu=server_cpu)
            ),
            "plain": stack.enter_context(
                _process(
                    _SERVER_SCRIPT,
                    _server_args("CartPole-v1", hosting="process", host="0.0.0.0"),
                    cpu=server_cpu,
                )
            ),
            "tls": stack.enter_context(
                _process(
                    _SERVER_SCRIPT,
                    _server_args("CartPole-v1", hosting="process", tls=tls_paths),
                    cpu=server_cpu,
                )
            ),
            "frame": stack.enter_context(
                _process(_SERVER_SCRIPT, _server_args(FRAME_ENV, hosting="process"), cpu=server_cpu)
            ),
        }
        tls = TLSConfig(ca=certs.ca)
        measures: list[tuple[str, Callable[[], float]]] = [
            ("local", lambda: _steps_per_s(gym.make("CartPole-v1"), args.steps)),
            ("floor", lambda: _floor_round_trips_per_s(ports["floor"], request_size, args.steps)),
            ("process", lambda: _remote(ports["process"], None, args.steps)),
            ("inline", lambda: _remote(ports["inline"], None, args.steps)),
            ("plain", lambda: _remote(ports["plain"], None, args.steps)),
            ("tls", lambda: _remote(ports["tls"], tls, args.steps)),
            ("frame_local", lambda: _steps_per_s(gym.make(FRAME_ENV), frame_steps)),
            ("frame_remote", lambda: _remote(ports["frame"], None, frame_steps)),
        ]
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("benchmark", total=args.rounds * (len(measures) + args.connects))
            for _ in range(args.rounds):
                for key, measure in measures:
                    progress.update(task, description=rows[key].name)
                    rows[key].samples.append(measure())
                    progress.advance(task)
                for _ in range(args.connects):
                    progress.update(task, description=rows["connect"].name)
                    rows["connect"].samples.append(_connect_and_reset_s(ports["process"]) * 1e3)
                    progress.advance(task)

        if args.seed_python:
            progress.update(task, description="remote-gym 0.7.3 (separate venv)")
            _measure_seed(args, rows)

    placement = "client CPU 0, servers CPU 1 (pinned)" if args.pin else "not pinned"
    report = _report(rows, args, placement)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(console, rows, report, placement)
    return 0


def _measure_seed(args: argparse.Namespace, rows: dict[str, Row]) -> None:
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_073.py")
    out = subprocess.run(
        [args.seed_python, script, str(args.rounds), str(args.steps), str(args.connects)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    rows["seed"] = Row(
        "remote-gym 0.7.3 CartPole-v1 (use_thread=True)",
        "steps/s",
        data["steps_per_s"],
        "measured after the rounds above",
    )
    rows["seed_connect"] = Row(
        "remote-gym 0.7.3 connect + first reset", "ms", [s * 1e3 for s in data["connect_s"]], ""
    )


def _remote(port: int, tls: TLSConfig | None, steps: int) -> float:
    with RemoteEnvironment(url="127.0.0.1", port=port, tls=tls) as env:
        return _steps_per_s(env, steps)


def _report(rows: dict[str, Row], args: argparse.Namespace, placement: str) -> dict[str, Any]:
    floor_us = 1e6 / rows["floor"].median
    out: dict[str, Any] = {"rounds": args.rounds, "steps": args.steps, "placement": placement, "rows": {}}
    for key, row in rows.items():
        entry: dict[str, Any] = {
            "name": row.name,
            "unit": row.unit,
            "median": row.median,
            "samples": row.samples,
        }
        if row.unit == "steps/s" and key not in ("local", "frame_local", "seed"):
            entry["us_per_step"] = 1e6 / row.median
            entry["x_floor"] = (1e6 / row.median) / floor_us
        out["rows"][key] = entry
    out["process_vs_local"] = rows["local"].median / rows["process"].median
    return out


def _print(console: Console, rows: dict[str, Row], report: dict[str, Any], placement: str) -> None:
    floor_us = 1e6 / rows["floor"].median
    table = Table(title=f"remote-gym single env — medians over {report['rounds']} rounds ({placement})")
    for col in ("configuration", "median", "unit", "µs/step", "× floor", "min–max", "note"):
        table.add_column(col, justify="left" if col in ("configuration", "unit", "note") else "right")
    for key, row in rows.items():
        us = 1e6 / row.median if row.unit in ("steps/s", "round trips/s") else None
        ratio = (
            f"{us / floor_us:.2f}" if us is not None and key not in ("local", "frame_local", "seed") else ""
        )
        fmt = "{:,.1f}" if row.unit == "ms" else "{:,.0f}"
        table.add_row(
            row.name,
            fmt.format(row.median),
            row.unit,
            f"{us:,.1f}" if us is not None else "",
            ratio,
            f"{fmt.format(min(row.samples))}–{fmt.format(max(row.samples))}",
            row.note,
        )
    console.print(table)
    console.print(
        f"floor = one bare grpc.aio round trip: {floor_us:,.0f} µs; "
        f"remote (process hosting) per step = {report['rows']['process']['x_floor']:.2f} × floor; "
        f"local CartPole is {report['process_vs_local']:,.0f} × faster than remote."
    )


if __name__ == "__main__":
    sys.exit(main())
