"""What the single-env benchmark scripts share: options, rounds, server processes, the gRPC floor, tables.

Every script measures its configurations once per round, in turn, so machine noise spreads over all
of them, and shows medians over rounds. Servers run in their own processes (never in the client's,
unless a row says so), each started the way a user would start one. Placement is not pinned unless
``--pin`` is given.

The floor is a bare grpc.aio bidi-stream ping-pong of a CartPole step's message sizes, measured from a
fresh client process, with the gRPC transport remote_gym selects (the floor) and with gRPC's default
transport (the default floor); see remote_gym.transport.grpc_init.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# remote_gym first, as in a user's script: it picks gRPC's transport before grpc is imported.
from remote_gym import ClientConfig, RemoteEnvironment, TLSConfig  # isort: skip
import gymnasium as gym
import turns
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym.codec import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.grpc_init import IOMGR_CHOSEN, IOMGR_EXPERIMENTS

_POLLING = """
def new_loop(default):
    # "poll" among the arguments: an event loop that polls before it sleeps, as remote-gym's do
    if "poll" not in sys.argv:
        return default()
    from remote_gym.transport.spin import new_event_loop
    return new_event_loop(300)[0]
"""

ECHOSERVER_SCRIPT = f"""
import asyncio, sys, grpc
{_POLLING}
async def echo(request_iterator, context):
    while True:
        data = await context.read()
        if data is grpc.aio.EOF:
            return
        if ENV is not None:  # the least a server that steps CartPole does: the step itself, no codec
            _, _, terminated, truncated, _ = ENV.step(data[-1] & 1)
            if terminated or truncated:
                ENV.reset()
        await context.write(REPLY)

async def main():
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bench.Echo", {{"Stream": grpc.stream_stream_rpc_method_handler(echo)}})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP))
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(0)

REPLY = bytes(int(sys.argv[1]))
ENV = None
if "cartpole" in sys.argv[2:]:
    import gymnasium
    ENV = gymnasium.make("CartPole-v1")
    ENV.reset(seed=0)
new_loop(asyncio.new_event_loop).run_until_complete(main())
"""
"""An echo server ("poll": a polling loop; "cartpole": steps CartPole per message); prints its port."""

_FLOOR_CLIENT_SCRIPT = f"""
import asyncio, sys, time, grpc
{_POLLING}
async def run(port, request_bytes, n):
    async with grpc.aio.secure_channel(
        f"127.0.0.1:{{port}}", grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
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

print(new_loop(asyncio.new_event_loop).run_until_complete(run(*map(int, sys.argv[1:4]))))
"""

# gRPC's transport choice for the two floors: gRPC's own defaults (an empty GRPC_EXPERIMENTS keeps
# them), and the one remote_gym makes for its own processes (see remote_gym.transport.grpc_init).
GRPC_DEFAULTS = ""
GRPC_AS_REMOTE_GYM = IOMGR_EXPERIMENTS if IOMGR_CHOSEN else os.environ.get("GRPC_EXPERIMENTS", "")

PER_STEP_UNITS = ("steps/s", "round trips/s")


@dataclass
class Row:
    """One configuration's samples over rounds."""

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    note: str = ""
    kind: str = "remote"
    """``remote`` (per-step time, × floor), ``local`` (per-step time only), ``sum`` (over several clients)."""

    @property
    def median(self) -> float:
        """Median over rounds."""
        return statistics.median(self.samples) if self.samples else float("nan")


def parser(doc: str | None, *, steps: int = 3000) -> argparse.ArgumentParser:
    """The options every script takes: --rounds, --steps, --quick, --pin, --json."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5, help="rounds (medians are over rounds; default 5)")
    p.add_argument("--steps", type=int, default=steps, help=f"steps per measurement (default {steps})")
    p.add_argument("--quick", action="store_true", help="1 round, few steps: a smoke run")
    p.add_argument("--pin", action="store_true", help="pin the client to CPU 0 and servers to CPU 1")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return p


class Bench(contextlib.ExitStack):
    """One benchmark run: its options, placement, console, and the server processes it started."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        if args.quick:
            args.rounds, args.steps = 1, 500
        self.args = args
        self.console = Console(stderr=args.json, width=None if sys.stdout.isatty() else 160)
        self.client_cpu, self.server_cpu = (0, 1) if args.pin else (None, None)
        if self.client_cpu is not None:
            os.sched_setaffinity(0, {self.client_cpu})
        self.placement = "client CPU 0, servers CPU 1 (pinned)" if args.pin else "not pinned"

    def server(
        self, env_id: str, *, hosting: str = "process", host: str = "127.0.0.1", **options: Any
    ) -> int:
        """Port of a remote-gym server process (``create_remote_environment_server(**options)``)."""
        kwargs = {"default_args": {"env_id": env_id}, "url": host, "port": 0, "hosting": hosting, **options}
        cpus = None if self.server_cpu is None else {self.server_cpu}
        return self.enter_context(server_port(SERVER_SCRIPT, json.dumps(kwargs), cpus=cpus))

    def echo_server(self, reply_size: int, *flags: str, experiments: str = GRPC_AS_REMOTE_GYM) -> int:
        """Port of an :data:`ECHOSERVER_SCRIPT` process with the given gRPC transport."""
        cpus = None if self.server_cpu is None else {self.server_cpu}
        env = {**os.environ, "GRPC_EXPERIMENTS": experiments}
        return self.enter_context(server_port(ECHOSERVER_SCRIPT, str(reply_size), *flags, cpus=cpus, env=env))

    def floor(
        self, port: int, request_size: int, experiments: str = GRPC_AS_REMOTE_GYM, *, poll: bool = False
    ) -> float:
        """Bare grpc.aio bidi-stream round trips/s from a fresh client process with the given transport."""
        command = [
            sys.executable,
            "-c",
            _FLOOR_CLIENT_SCRIPT,
            str(port),
            str(request_size),
            str(self.args.steps),
        ]
        if poll:
            command.append("poll")
        if self.client_cpu is not None:
            command = ["taskset", "-c", str(self.client_cpu), *command]
        env = {**os.environ, "GRPC_EXPERIMENTS": experiments}
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
        return float(out.strip().splitlines()[-1])

    def run_rounds(self, rows: dict[str, Row], measures: list[tuple[str, Callable[[], float]]]) -> None:
        """Measure every configuration once per round, in turn, with a progress bar."""
        with Progress(console=self.console, transient=True) as progress:
            task = progress.add_task("benchmark", total=self.args.rounds * len(measures))
            for _ in range(self.args.rounds):
                for key, measure in measures:
                    progress.update(task, description=rows[key].name)
                    rows[key].samples.append(measure())
                    progress.advance(task)

    def finish(self, title: str, rows: dict[str, Row], ratios: dict[str, float], lines: list[str]) -> int:
        """Print the table and the summary ``lines`` (or, with --json, the report with ``ratios``)."""
        report = report_of(rows, self.args, self.placement) | ratios
        if self.args.json:
            print(json.dumps(report, indent=2))
            return 0
        columns = (
            "configuration",
            "median",
            "unit",
            "µs/step",
            "× floor",
            "× default floor",
            "min–max",
            "note",
        )
        cells = [_cells(row, report["rows"][key]) for key, row in rows.items()]
        shown = [i for i in range(len(columns)) if any(line[i] for line in cells)]  # no empty columns
        table = Table(title=f"{title} — medians over {self.args.rounds} rounds ({self.placement})")
        for i in shown:
            left = columns[i] in ("configuration", "unit", "note")
            table.add_column(columns[i], justify="left" if left else "right")
        for line in cells:
            table.add_row(*(line[i] for i in shown))
        self.console.print(table)
        for line in lines:
            self.console.print(line)
        return 0


def _cells(row: Row, entry: dict[str, Any]) -> list[str]:
    fmt = "{:,.1f}" if row.unit == "ms" else "{:,.0f}"
    per_step = row.unit in PER_STEP_UNITS and row.kind != "sum"
    return [
        row.name,
        fmt.format(row.median),
        row.unit,
        f"{1e6 / row.median:,.1f}" if per_step else "",
        f"{entry['x_floor']:.2f}" if "x_floor" in entry else "",
        f"{entry['x_default_floor']:.2f}" if "x_default_floor" in entry else "",
        f"{fmt.format(min(row.samples))}–{fmt.format(max(row.samples))}",
        row.note,
    ]


def report_of(rows: dict[str, Row], args: argparse.Namespace, placement: str) -> dict[str, Any]:
    """Medians, samples, and per-step times against the floors (when this run measured them)."""
    out: dict[str, Any] = {
        "rounds": args.rounds,
        "steps": args.steps,
        "placement": placement,
        "grpc_experiments": GRPC_AS_REMOTE_GYM,
        "rows": {},
    }
    floors = {
        name: 1e6 / rows[key].median
        for name, key in (("x_floor", "floor"), ("x_default_floor", "floor_default"))
        if key in rows
    }
    for key, row in rows.items():
        entry: dict[str, Any] = {
            "name": row.name,
            "unit": row.unit,
            "median": row.median,
            "samples": row.samples,
        }
        if row.unit in PER_STEP_UNITS and row.kind == "remote":
            entry["us_per_step"] = 1e6 / row.median
            entry.update({name: entry["us_per_step"] / floor_us for name, floor_us in floors.items()})
        out["rows"][key] = entry
    return out


def floor_rows(request_size: int, reply_size: int) -> dict[str, Row]:
    """The two floor rows (gRPC's default transport, and remote-gym's)."""
    return {
        "floor_default": Row(
            "bare grpc.aio bidi ping-pong, gRPC's default transport",
            "round trips/s",
            note=f"{request_size} B / {reply_size} B",
        ),
        "floor": Row(
            "bare grpc.aio bidi ping-pong, remote-gym's transport (floor)",
            "round trips/s",
            note=f"GRPC_EXPERIMENTS={GRPC_AS_REMOTE_GYM or '(unset)'}",
        ),
    }


def message_sizes() -> tuple[int, int]:
    """Serialized sizes of a CartPole step request and reply, for a same-sized floor."""
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    request = pb.Request()
    encode_value(env.action_space.sample(), request.step.action)
    reply = pb.Response()
    step = reply.step
    for value, msg in zip(
        env.step(0), (step.observation, step.reward, step.terminated, step.truncated, step.info), strict=True
    ):
        encode_value(value, msg)
    return len(request.SerializeToString()), len(reply.SerializeToString())


def steps_per_s(env: gym.Env[Any, Any], steps: int) -> float:
    """Steps/s of ``env`` over ``steps`` pre-sampled actions, resetting at episode ends."""
    return steps / turns.env_stepper(env, steps)(steps)


def remote(
    port: int, steps: int, tls: TLSConfig | None = None, *, poll: bool = True, lane: bool = True
) -> float:
    """Steps/s of a RemoteEnvironment on the server at ``port`` (``poll``: client spin_us; ``lane``)."""
    config = ClientConfig(same_host_lane=lane) if poll else ClientConfig(spin_us=0, same_host_lane=lane)
    with RemoteEnvironment(url="127.0.0.1", port=port, tls=tls, config=config) as env:
        return steps_per_s(env, steps)
