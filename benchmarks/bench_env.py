"""Benchmark one remote environment against the local env and the bare gRPC floor, in one run.

Usage:
    uv run python benchmarks/bench_env.py            # 5 rounds, a few seconds each
    uv run python benchmarks/bench_env.py --quick    # a smoke run
    uv run python benchmarks/bench_env.py --json     # machine-readable

Every round measures every configuration once, in turn, so machine noise spreads over all of them;
the tables show the median over rounds. Servers run in their own processes (never in the client's),
each started the way a user would start one. Placement is not pinned unless --pin is given.

The floor is a bare grpc.aio bidi-stream ping-pong of the same message sizes, measured from a fresh
client process twice: with the gRPC transport remote_gym selects (the floor) and with gRPC's default
transport (the default floor); see remote_gym.transport.grpc_init. Two more rows put it in context:
the same ping-pong with both event loops polling before they sleep (as remote-gym's do, see
remote_gym.transport.spin), and the plain ping-pong with the server stepping CartPole in its handler
(a minimal env server with no remote-gym code).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# remote_gym first, as in a user's script: it picks gRPC's transport before grpc is imported.
from remote_gym import ClientConfig, RemoteEnvironment, TLSConfig  # isort: skip
import gymnasium as gym
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from remote_gym.transport.certs import generate_dev_certs
from remote_gym.transport.grpc_init import IOMGR_CHOSEN, IOMGR_EXPERIMENTS

FRAME_ENV = IMPORTABLE_ENV_IDS["Frame"]

_ECHOSERVER_SCRIPT = """
import asyncio, sys, grpc

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
    handler = grpc.method_handlers_generic_handler("bench.Echo", {"Stream": grpc.stream_stream_rpc_method_handler(echo)})
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


_FLOOR_CLIENT_SCRIPT = """
import asyncio, sys, time, grpc

async def run(port, request_bytes, n):
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

print(new_loop(asyncio.new_event_loop).run_until_complete(run(*map(int, sys.argv[1:4]))))
"""

_POLLING = """
def new_loop(default):
    # "poll" among the arguments: an event loop that polls before it sleeps, as remote-gym's do
    if "poll" not in sys.argv:
        return default()
    from remote_gym.transport.spin import new_event_loop
    return new_event_loop(300)[0]
"""
_ECHOSERVER_SCRIPT = _ECHOSERVER_SCRIPT.replace("async def echo", _POLLING + "\nasync def echo", 1)
_FLOOR_CLIENT_SCRIPT = _FLOOR_CLIENT_SCRIPT.replace("async def run", _POLLING + "\nasync def run", 1)

# gRPC's transport choice for the two floors: gRPC's own defaults (an empty GRPC_EXPERIMENTS keeps
# them), and the one remote_gym makes for its own processes (see remote_gym.transport.grpc_init).
GRPC_DEFAULTS = ""
GRPC_AS_REMOTE_GYM = IOMGR_EXPERIMENTS if IOMGR_CHOSEN else os.environ.get("GRPC_EXPERIMENTS", "")


def _grpc_env(experiments: str) -> dict[str, str]:
    return {**os.environ, "GRPC_EXPERIMENTS": experiments}


def _process(
    script: str, *args: str, cpu: int | None, env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[int]:
    """Run a server script in its own process (pinned to ``cpu``); a context manager yielding its port."""
    return server_port(script, *args, cpus=None if cpu is None else {cpu}, env=env)


def _server_args(
    env_id: str,
    *,
    hosting: str,
    host: str = "127.0.0.1",
    tls: tuple[str, ...] | None = None,
    **options: Any,
) -> str:
    return json.dumps(
        {
            "default_args": {"env_id": env_id},
            "url": host,
            "port": 0,
            "hosting": hosting,
            "server_credentials_paths": tls,
            **options,
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


def _floor_round_trips_per_s(
    port: int, request_bytes: int, n: int, experiments: str, cpu: int | None, *, poll: bool = False
) -> float:
    """Bare grpc.aio bidi-stream ping-pong from a fresh client process with the given gRPC transport."""
    command = [sys.executable, "-c", _FLOOR_CLIENT_SCRIPT, str(port), str(request_bytes), str(n)]
    if poll:
        command.append("poll")
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env=_grpc_env(experiments)
    ).stdout
    return float(out.strip().splitlines()[-1])


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
                "floor_default",
                "bare grpc.aio bidi ping-pong, gRPC's default transport",
                "round trips/s",
                f"{request_size} B / {reply_size} B",
            ),
            (
                "floor",
                "bare grpc.aio bidi ping-pong, remote-gym's transport (floor)",
                "round trips/s",
                f"GRPC_EXPERIMENTS={GRPC_AS_REMOTE_GYM or '(unset)'}",
            ),
            (
                "floor_poll",
                "same, both event loops polling",
                "round trips/s",
                "as remote-gym's loops poll (spin_us)",
            ),
            (
                "floor_env",
                "same (not polling) + CartPole step in the echo handler",
                "round trips/s",
                "no remote-gym code: a minimal env server",
            ),
            ("process", "remote CartPole-v1, process hosting", "steps/s", "default: same-host lane"),
            (
                "process_grpc",
                "remote CartPole-v1, process hosting, gRPC path",
                "steps/s",
                "same_host_lane=False; local credentials",
            ),
            (
                "inproc",
                "remote CartPole-v1, server in the client's process",
                "steps/s",
                "running_server(), process hosting, lane",
            ),
            (
                "inproc_grpc",
                "same, gRPC path",
                "steps/s",
                "running_server(), process hosting, same_host_lane=False",
            ),
            (
                "nopoll",
                "remote CartPole-v1, process hosting, no polling",
                "steps/s",
                "spin_us=0, spin_us=0; gRPC path",
            ),
            ("inline", "remote CartPole-v1, inline hosting", "steps/s", "local credentials"),
            (
                "plain",
                "remote CartPole-v1, plaintext, gRPC path",
                "steps/s",
                "server on 0.0.0.0, process hosting",
            ),
            ("tls", "remote CartPole-v1, TLS, gRPC path", "steps/s", "process hosting"),
            ("frame_local", "local 210x160x3 uint8 obs env", "steps/s", "no network"),
            ("frame_remote", "remote 210x160x3 uint8 obs env", "steps/s", "process hosting, lane"),
            ("frame_grpc", "remote 210x160x3 uint8 obs env, gRPC path", "steps/s", "process hosting"),
            (
                "clients4",
                f"remote CartPole-v1, {CONCURRENT_CLIENTS} clients at once",
                "steps/s",
                "sum over client processes; process hosting, lane",
            ),
            ("connect", "connect + first reset", "ms", "process hosting, CartPole-v1"),
        )
    }
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        certs = generate_dev_certs(tmp)
        tls_paths = (str(certs.server_cert), str(certs.server_key))

        def echo_server(*flags: str, experiments: str = GRPC_AS_REMOTE_GYM) -> int:
            """Port of an echo server ("poll": polling loop; "cartpole": steps CartPole per message)."""
            return stack.enter_context(
                _process(
                    _ECHOSERVER_SCRIPT, str(reply_size), *flags, cpu=server_cpu, env=_grpc_env(experiments)
                )
            )

        def floor(key: str, experiments: str = GRPC_AS_REMOTE_GYM, poll: bool = False) -> Callable[[], float]:
            return lambda: _floor_round_trips_per_s(
                ports[key], request_size, args.steps, experiments, client_cpu, poll=poll
            )

        ports = {
            "floor_default": echo_server(experiments=GRPC_DEFAULTS),
            "floor": echo_server(),
            "floor_poll": echo_server("poll"),
            "floor_env": echo_server("cartpole"),
            "process": stack.enter_context(
                _process(SERVER_SCRIPT, _server_args("CartPole-v1", hosting="process"), cpu=server_cpu)
            ),
            "nopoll": stack.enter_context(
                _process(
                    SERVER_SCRIPT,
                    _server_args("CartPole-v1", hosting="process", spin_us=0),
                    cpu=server_cpu,
                )
            ),
            "inline": stack.enter_context(
                _process(SERVER_SCRIPT, _server_args("CartPole-v1", hosting="inline"), cpu=server_cpu)
            ),
            "plain": stack.enter_context(
                _process(
                    SERVER_SCRIPT,
                    _server_args("CartPole-v1", hosting="process", host="0.0.0.0"),
                    cpu=server_cpu,
                )
            ),
            "tls": stack.enter_context(
                _process(
                    SERVER_SCRIPT,
                    _server_args("CartPole-v1", hosting="process", tls=tls_paths),
                    cpu=server_cpu,
                )
            ),
            "frame": stack.enter_context(
                _process(SERVER_SCRIPT, _server_args(FRAME_ENV, hosting="process"), cpu=server_cpu)
            ),
        }
        tls = TLSConfig(ca=certs.ca)
        measures: list[tuple[str, Callable[[], float]]] = [
            ("local", lambda: _steps_per_s(gym.make("CartPole-v1"), args.steps)),
            ("floor_default", floor("floor_default", GRPC_DEFAULTS)),
            ("floor", floor("floor")),
            ("floor_poll", floor("floor_poll", poll=True)),
            ("floor_env", floor("floor_env")),
            ("process", lambda: _remote(ports["process"], None, args.steps)),
            ("process_grpc", lambda: _remote(ports["process"], None, args.steps, lane=False)),
            ("inproc", lambda: _in_process(args.steps)),
            ("inproc_grpc", lambda: _in_process(args.steps, lane=False)),
            ("nopoll", lambda: _remote(ports["nopoll"], None, args.steps, poll=False, lane=False)),
            ("inline", lambda: _remote(ports["inline"], None, args.steps)),
            ("plain", lambda: _remote(ports["plain"], None, args.steps, lane=False)),
            ("tls", lambda: _remote(ports["tls"], tls, args.steps, lane=False)),
            ("frame_local", lambda: _steps_per_s(gym.make(FRAME_ENV), frame_steps)),
            ("frame_remote", lambda: _remote(ports["frame"], None, frame_steps)),
            ("frame_grpc", lambda: _remote(ports["frame"], None, frame_steps, lane=False)),
            ("clients4", lambda: _concurrent_clients(ports["process"], args.steps, client_cpu)),
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


CONCURRENT_CLIENTS = 4
"""Client processes stepping one server at once, for the aggregate row."""

_CLIENT_SCRIPT = """
import sys, time
import remote_gym
env = remote_gym.RemoteEnvironment(url="127.0.0.1", port=int(sys.argv[1]))
steps = int(sys.argv[2])
env.action_space.seed(0)
actions = [env.action_space.sample() for _ in range(steps)]
env.reset(seed=0)
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for action in actions:
    _, _, terminated, truncated, _ = env.step(action)
    if terminated or truncated:
        env.reset()
print(steps / (time.perf_counter() - start), flush=True)
env.close()
"""


def _concurrent_clients(port: int, steps: int, cpu: int | None) -> float:
    """Steps/s summed over client processes that step one server at the same time."""
    command = [sys.executable, "-c", _CLIENT_SCRIPT, str(port), str(steps)]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    clients = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(CONCURRENT_CLIENTS)
    ]
    try:
        for client in clients:  # all connected and reset: then start them together
            assert client.stdout is not None
            client.stdout.readline()
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        rates = [float(client.stdout.readline()) for client in clients if client.stdout is not None]
    finally:
        for client in clients:
            client.wait(60)
    return sum(rates)


def _in_process(steps: int, *, lane: bool = True) -> float:
    """Steps/s through a server running in this very process (as in tests, notebooks, `remote-gym demo`).

    Started for this measurement only, so that no other row runs beside a server in its process.
    """
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", grace=0.1) as server:
        return _remote(server.port, None, steps, lane=lane)


def _remote(port: int, tls: TLSConfig | None, steps: int, *, poll: bool = True, lane: bool = True) -> float:
    config = ClientConfig(same_host_lane=lane) if poll else ClientConfig(spin_us=0, same_host_lane=lane)
    with RemoteEnvironment(url="127.0.0.1", port=port, tls=tls, config=config) as env:
        return _steps_per_s(env, steps)


_NOT_REMOTE = ("local", "frame_local", "seed")
_AGGREGATE = ("clients4",)
"""Rows that sum several clients: no per-step time or ratio."""


def _report(rows: dict[str, Row], args: argparse.Namespace, placement: str) -> dict[str, Any]:
    floor_us = 1e6 / rows["floor"].median
    default_floor_us = 1e6 / rows["floor_default"].median
    out: dict[str, Any] = {
        "rounds": args.rounds,
        "steps": args.steps,
        "placement": placement,
        "grpc_experiments": GRPC_AS_REMOTE_GYM,
        "rows": {},
    }
    for key, row in rows.items():
        entry: dict[str, Any] = {
            "name": row.name,
            "unit": row.unit,
            "median": row.median,
            "samples": row.samples,
        }
        if row.unit in ("steps/s", "round trips/s") and key not in _NOT_REMOTE + _AGGREGATE:
            entry["us_per_step"] = 1e6 / row.median
            entry["x_floor"] = (1e6 / row.median) / floor_us
            entry["x_default_floor"] = (1e6 / row.median) / default_floor_us
        out["rows"][key] = entry
    out["process_vs_local"] = rows["local"].median / rows["process"].median
    out["frame_vs_local"] = rows["frame_remote"].median / rows["frame_local"].median
    out["frame_grpc_vs_local"] = rows["frame_grpc"].median / rows["frame_local"].median
    out["inproc_vs_process"] = rows["process"].median / rows["inproc"].median
    out["inproc_grpc_vs_process_grpc"] = rows["process_grpc"].median / rows["inproc_grpc"].median
    return out


def _print(console: Console, rows: dict[str, Row], report: dict[str, Any], placement: str) -> None:
    table = Table(title=f"remote-gym single env — medians over {report['rounds']} rounds ({placement})")
    for col in (
        "configuration",
        "median",
        "unit",
        "µs/step",
        "× floor",
        "× default floor",
        "min–max",
        "note",
    ):
        table.add_column(col, justify="left" if col in ("configuration", "unit", "note") else "right")
    for key, row in rows.items():
        entry = report["rows"][key]
        per_step = row.unit in ("steps/s", "round trips/s") and key not in _AGGREGATE
        us = 1e6 / row.median if per_step else None
        fmt = "{:,.1f}" if row.unit == "ms" else "{:,.0f}"
        table.add_row(
            row.name,
            fmt.format(row.median),
            row.unit,
            f"{us:,.1f}" if us is not None else "",
            f"{entry['x_floor']:.2f}" if "x_floor" in entry else "",
            f"{entry['x_default_floor']:.2f}" if "x_default_floor" in entry else "",
            f"{fmt.format(min(row.samples))}–{fmt.format(max(row.samples))}",
            row.note,
        )
    console.print(table)
    process = report["rows"]["process"]
    console.print(
        f"floor = one bare grpc.aio round trip with remote-gym's gRPC transport: "
        f"{1e6 / rows['floor'].median:,.0f} µs (with gRPC's default transport: "
        f"{1e6 / rows['floor_default'].median:,.0f} µs). Remote CartPole, process hosting: "
        f"{process['us_per_step']:,.0f} µs per step = {process['x_floor']:.2f} × floor, "
        f"{process['x_default_floor']:.2f} × default floor; local CartPole is "
        f"{report['process_vs_local']:,.0f} × faster."
    )
    grpc_path = report["rows"]["process_grpc"]
    console.print(
        f"Same-host lane: {process['us_per_step']:,.1f} µs per step = {process['x_floor']:.2f} × floor "
        f"(gRPC path: {grpc_path['us_per_step']:,.0f} µs = {grpc_path['x_floor']:.2f} × floor); "
        f"{report['process_vs_local']:,.1f} × the local step. 210x160x3 frames over the lane: "
        f"{100 * report['frame_vs_local']:.0f}% of the local env's steps/s (gRPC path "
        f"{100 * report['frame_grpc_vs_local']:.0f}%). Server in the client's process: "
        f"{report['inproc_vs_process']:.2f} × the time per step of one in its own process (lane), "
        f"{report['inproc_grpc_vs_process_grpc']:.2f} × (gRPC path)."
    )


if __name__ == "__main__":
    sys.exit(main())
