"""The network lane across a veth link: servers in one network namespace, the trainer in another.

Usage (root, iproute2):
    uv run python benchmarks/bench_network_lane.py            # 5 rounds
    uv run python benchmarks/bench_network_lane.py --quick    # a smoke run

The script makes two namespaces joined by a veth pair (deleted at the end), starts every server in
the first and, each round, client processes in the second that measure:

- the floor: a bare grpc.aio bidi-stream round trip of 64 bytes each way, gRPC's default channel
  and server options and transport (plaintext), in a process of its own before and after the round's
  client (the round's floor: the mean of the two round-trip times);
- a plain Python TCP ping-pong of the same 64 bytes (TCP_NODELAY);
- CartPole, 1 env: the gRPC path, the network lane in plaintext, the network lane over TLS;
- CartPole, 64 envs in one vector session on the remote host: gRPC path and network lane;
- 210x160x3 uint8 frames (remote_gym.testing's Frame env): network lane, against the local env.

Configurations a target compares (the three 1-env paths; the two 64-env ones; frames local and over
the lane) are open at once and step blocks in turn (:mod:`turns`). Medians over rounds; every ratio
is of this run (of medians, of each round's own, of best rounds).
``--pin``: the client on CPU 0, the servers and their workers on CPU 1. Run it at normal priority:
under real-time priority (``chrt``) the gRPC path's hand-offs between processes are woken at once and
its rows gain, the lane's do not (see the network-lane guide).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip
import gymnasium as gym
import turns
from rich.progress import Progress
from servers import server_port

from remote_gym import ClientConfig, RemoteEnvironment, RemoteVectorEnv, TLSConfig
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.transport.certs import generate_dev_certs

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tests.support.netns import NetnsPair, NetnsUnavailable, netns_available, veth_pair

FRAME_ENV = IMPORTABLE_ENV_IDS["Frame"]
PAYLOAD = 64
VECTOR_ENVS = 64

SERVER = """
import json, sys
from remote_gym.server import EnvServer, NetworkLaneConfig, ServerConfig, ServerTLSConfig, make_entry
spec = json.loads(sys.argv[1])
tls = ServerTLSConfig(cert=spec["cert"], key=spec["key"]) if spec.get("cert") else None
server = EnvServer(ServerConfig(
    environments=tuple(make_entry(name, gym_id=name) for name in spec["envs"]),
    host=spec["host"], port=0, tls=tls, hosting="process", max_envs_per_session=256,
    network_lane=NetworkLaneConfig(announce=spec["host"], plaintext=tls is None),
    **({} if spec.get("spin_us") is None else {"spin_us": spec["spin_us"]}),
)).start()
print(server.port, flush=True)
sys.stdin.read()
server.stop(0.5)
"""
"""A remote-gym server offering the network lane (TLS when given certificates); prints its port."""

GRPC_ECHO = """
import asyncio, sys, grpc
async def echo(request_iterator, context):
    while True:
        data = await context.read()
        if data is grpc.aio.EOF:
            return
        await context.write(data)
async def main():
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bench.Echo", {"Stream": grpc.stream_stream_rpc_method_handler(echo)})
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(f"{sys.argv[1]}:0")
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(0)
asyncio.run(main())
"""
"""A bare grpc.aio echo server, gRPC's default options; prints its port."""

TCP_ECHO = """
import socket, sys, threading
listener = socket.create_server((sys.argv[1], 0))
def serve():
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.close()
threading.Thread(target=serve, daemon=True).start()
print(listener.getsockname()[1], flush=True)
sys.stdin.read()
"""
"""A plain TCP echo server (blocking, TCP_NODELAY); prints its port."""


# -- the client side (runs in the trainer's namespace) -------------------------------------------


def _grpc_floor(address: str, n: int) -> float:
    import asyncio

    import grpc

    async def run() -> float:
        async with grpc.aio.insecure_channel(address) as channel:
            call = channel.stream_stream("/bench.Echo/Stream")()
            payload = bytes(PAYLOAD)
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


def _tcp_pingpong(address: str, n: int) -> float:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = bytes(PAYLOAD)
        for i in range(n + 50):
            if i == 50:
                start = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < PAYLOAD:
                got += len(sock.recv(65536))
        return n / (time.perf_counter() - start)


def _config(lane: bool) -> ClientConfig:
    """The client's configuration: the network lane on or off, and ``--spin-us`` if given."""
    spin = json.loads(sys.argv[2]).get("spin_us")
    return ClientConfig(network_lane=lane) if spin is None else ClientConfig(network_lane=lane, spin_us=spin)


def _opened(stack: contextlib.ExitStack, address: str, env: str, tls: TLSConfig | None, lane: bool) -> Any:
    """A RemoteEnvironment (closed with ``stack``)."""
    return stack.enter_context(RemoteEnvironment(address=address, env=env, tls=tls, config=_config(lane)))


def client_round(spec: dict[str, Any]) -> dict[str, Any]:
    """One round of every measurement, from the trainer's namespace; configurations compared by a
    target are measured in turns (:mod:`turns`), so that the machine's slow spells fall on both."""
    n, plain, secure = spec["steps"], spec["plain"], spec["tls"]
    tls = TLSConfig(ca=spec["ca"])
    out: dict[str, Any] = {"paths": {}}
    out["tcp"] = _tcp_pingpong(spec["tcp_echo"], n)
    with contextlib.ExitStack() as stack:
        singles = {
            "grpc": _opened(stack, plain, "CartPole-v1", None, False),
            "lane": _opened(stack, plain, "CartPole-v1", None, True),
            "lane_tls": _opened(stack, secure, "CartPole-v1", tls, True),
        }
        out.update(turns.in_turns({key: turns.env_stepper(env) for key, env in singles.items()}, n))
        out["paths"].update({key: env.unwrapped._connection.path for key, env in singles.items()})
    with contextlib.ExitStack() as stack:
        vectors = {
            key: stack.enter_context(
                RemoteVectorEnv("CartPole-v1", VECTOR_ENVS, address=plain, config=_config(lane))
            )
            for key, lane in (("vec_grpc", False), ("vec_lane", True))
        }
        steppers = {key: turns.vector_stepper(env) for key, env in vectors.items()}
        rates = turns.in_turns(steppers, max(100, n // 4))
        out.update({key: rate * VECTOR_ENVS for key, rate in rates.items()})
        out["paths"].update({key: env._hosts[0].connection.path for key, env in vectors.items()})
    with contextlib.ExitStack() as stack:
        frames = {
            "frames_local": gym.make(FRAME_ENV),
            "frames_lane": _opened(stack, plain, FRAME_ENV, None, True),
        }
        out.update(
            turns.in_turns({key: turns.env_stepper(env) for key, env in frames.items()}, max(200, n // 2))
        )
        out["paths"]["frames_lane"] = frames["frames_lane"].unwrapped._connection.path
    return out


# -- the driver (root namespace) ----------------------------------------------------------------


def _rows() -> dict[str, common.Row]:
    row = common.Row
    return {
        "floor": row(
            "bare grpc.aio bidi ping-pong, gRPC defaults (floor)",
            "round trips/s",
            note=f"{PAYLOAD} B each way",
        ),
        "tcp": row("plain TCP ping-pong (Python)", "round trips/s", note=f"{PAYLOAD} B, TCP_NODELAY"),
        "grpc": row("CartPole-v1, 1 env, gRPC path", "steps/s", note="ClientConfig(network_lane=False)"),
        "lane": row("CartPole-v1, 1 env, network lane", "steps/s", note="plaintext"),
        "lane_tls": row("CartPole-v1, 1 env, network lane, TLS", "steps/s", note="server's certificates"),
        "vec_grpc": row(f"CartPole-v1 x{VECTOR_ENVS}, one host, gRPC path", "env-steps/s", kind="sum"),
        "vec_lane": row(f"CartPole-v1 x{VECTOR_ENVS}, one host, network lane", "env-steps/s", kind="sum"),
        "frames_local": row("local 210x160x3 uint8 obs env", "steps/s", note="no network", kind="local"),
        "frames_lane": row("210x160x3 uint8 obs env, network lane", "steps/s", note="plaintext"),
    }


def _servers(bench: common.Bench, pair: NetnsPair, certs: Any) -> dict[str, str]:
    prefix = ("ip", "netns", "exec", pair.a)
    host = pair.a_ip
    cpus = None if bench.server_cpu is None else {bench.server_cpu}

    def remote_gym(**extra: str) -> str:
        spec = {"host": host, "envs": ["CartPole-v1", FRAME_ENV], "spin_us": bench.args.spin_us, **extra}
        return (
            f"{host}:{bench.enter_context(server_port(SERVER, json.dumps(spec), prefix=prefix, cpus=cpus))}"
        )

    return {
        "grpc_echo": f"{host}:{bench.enter_context(server_port(GRPC_ECHO, host, prefix=prefix, env=_grpc_defaults(), cpus=cpus))}",
        "tcp_echo": f"{host}:{bench.enter_context(server_port(TCP_ECHO, host, prefix=prefix, cpus=cpus))}",
        "plain": remote_gym(),
        "tls": remote_gym(cert=str(certs.server_cert), key=str(certs.server_key)),
        "ca": str(certs.ca),
    }


def _grpc_defaults() -> dict[str, str]:
    return {**os.environ, "GRPC_EXPERIMENTS": common.GRPC_DEFAULTS}


def _run_client(pair: NetnsPair, mode: str, spec: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    """Run this script's ``mode`` (``--client``, ``--floor``) in the trainer's namespace; its JSON answer.

    With ``--pin`` (``spec["cpu"]``), the client runs on that CPU (the servers on the other).
    """
    pin = [] if spec.get("cpu") is None else ["taskset", "-c", str(spec["cpu"])]
    command = ["ip", "netns", "exec", pair.b, *pin, sys.executable, __file__, mode, json.dumps(spec)]
    out = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if out.returncode:
        raise RuntimeError(f"client round failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


RATIOS = {
    # name: (numerator row, denominator row) of rates; per-step time ratios are their inverse
    "grpc_x_floor": ("floor", "grpc"),
    "lane_x_floor": ("floor", "lane"),
    "lane_tls_x_floor": ("floor", "lane_tls"),
    "vector_lane_x_grpc": ("vec_lane", "vec_grpc"),
    "frames_lane_vs_local": ("frames_lane", "frames_local"),
}
"""The ratios the targets are stated in (a step's time over the floor's = the floor's rate over the step's)."""


def _both(ratios: dict[str, Any], name: str) -> str:
    return f"{ratios[name]:.2f} / {ratios[name + '_per_round']:.2f} / {ratios[name + '_best']:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Make the namespaces, start the servers, measure, print the table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--client"]:  # remote-gym's own gRPC transport choice, as users get it
        print(json.dumps(client_round(json.loads(argv[1]))))
        return 0
    if argv[:1] == ["--floor"]:  # started with GRPC_EXPERIMENTS="": gRPC's default transport
        spec = json.loads(argv[1])
        print(json.dumps(_grpc_floor(spec["grpc_echo"], spec["steps"])))
        return 0
    parser = common.parser(__doc__)
    parser.add_argument(
        "--spin-us", type=float, default=None, help="spin_us of servers and clients (default: their defaults)"
    )
    args = parser.parse_args(argv)
    if not netns_available():
        print("needs root and iproute2 (it makes two network namespaces)", file=sys.stderr)
        return 2
    rows = _rows()
    paths: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        try:
            pair = stack.enter_context(veth_pair("rg-bnl"))
        except NetnsUnavailable as exc:
            print(f"cannot make network namespaces: {exc}", file=sys.stderr)
            return 2
        certs = generate_dev_certs(
            stack.enter_context(tempfile.TemporaryDirectory()), ip_addresses=(pair.a_ip,)
        )
        bench = stack.enter_context(common.Bench(args))
        bench.placement = f"{bench.placement}; servers and client in two namespaces over a veth pair"
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the driver only waits: not pinned
        spec = {**_servers(bench, pair, certs), "steps": args.steps, "spin_us": args.spin_us}
        spec["cpu"] = bench.client_cpu
        with Progress(console=bench.console, transient=True) as progress:
            task = progress.add_task("rounds (one client process per round)", total=args.rounds)
            for _ in range(args.rounds):
                before = _run_client(pair, "--floor", spec, _grpc_defaults())
                result = _run_client(pair, "--client", spec)
                result["floor"] = 2 / (1 / before + 1 / _run_client(pair, "--floor", spec, _grpc_defaults()))
                paths = result.pop("paths")
                for key, value in result.items():
                    rows[key].samples.append(value)
                progress.advance(task)
        floor_us = 1e6 / rows["floor"].median
        ratios: dict[str, Any] = {"floor_us": floor_us, "tcp_us": 1e6 / rows["tcp"].median}
        # Each ratio two ways: of the medians over rounds, and the median of each round's own ratio
        # (on a loaded machine the rounds differ more than configurations within a round).
        for name, (top, bottom) in RATIOS.items():
            ratios[name] = rows[top].median / rows[bottom].median
            per_round = [a / b for a, b in zip(rows[top].samples, rows[bottom].samples, strict=True)]
            ratios[f"{name}_per_round"] = statistics.median(per_round)
            ratios[f"{name}_best"] = max(rows[top].samples) / max(rows[bottom].samples)
        ratios["paths"] = paths
        return bench.finish(
            "network lane across a veth link",
            rows,
            ratios,
            [
                f"floor (bare grpc.aio bidi round trip, defaults, {PAYLOAD} B): {floor_us:,.0f} µs; "
                f"plain TCP ping-pong: {ratios['tcp_us']:,.0f} µs.",
                "ratios: of medians / median of each round's own ratio / of each row's best round",
                f"CartPole step: gRPC path {_both(ratios, 'grpc_x_floor')}× floor; network lane "
                f"{_both(ratios, 'lane_x_floor')}× floor (target ≤ 0.4), with TLS {_both(ratios, 'lane_tls_x_floor')}× "
                "(target ≤ 0.5).",
                f"{VECTOR_ENVS} envs on one host: network lane {_both(ratios, 'vector_lane_x_grpc')}× the gRPC path "
                f"(target ≥ 1.5). 210x160x3 frames over the lane: {_both(ratios, 'frames_lane_vs_local')}× "
                "the local env's steps/s (target ≥ 0.4).",
                f"paths taken (client's view): {paths}",
            ],
        )


if __name__ == "__main__":
    sys.exit(main())
