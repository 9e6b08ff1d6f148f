"""Capacity that recovers: a trainer killed and restarted against a full server, and clients that vanish.

1. A new server with ``max_sessions`` N (worker process per session) per run. A trainer process opens
   N sessions (reset + step each) on the empty server and is killed with SIGKILL; a new trainer process
   is started at once and opens N sessions again. Reported: each trainer's time from its first connect
   to N working sessions (the goal for the second: within 1 s), their ratio within the run, and the
   wall time from the kill to that point (it includes starting Python and importing remote-gym).
   Before release 1.1.0 the second trainer was refused for the resume window (60 s).
2. A session that reset and stepped is cut (it must stay held for resumption), then C connections each
   make a session and vanish without a reset. Reported: how long after the last one the server holds
   no worker for them, the worker processes left 1 s after, the server process's RSS growth, and
   whether the cut session is still held and resumes.

    uv run python benchmarks/bench_fleet.py [--sessions 4] [--runs 5] [--connections 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

from rich.console import Console
from rich.table import Table
from servers import SERVER_SCRIPT

from remote_gym.client.channel import SESSION_METHOD, open_channel, split_address
from remote_gym.client.config import ClientConfig
from remote_gym.client.info import server_info
from remote_gym.codec.requests import make_request, reset_request, resume_request, step_request
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

TRAINER = """
import sys, time
from remote_gym import RemoteEnvironment
address, n = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
envs = [RemoteEnvironment(address=address) for _ in range(n)]
for env in envs:
    env.reset(seed=0)
    env.step(0)
print(time.perf_counter() - start, flush=True)
time.sleep(3600)
"""
"""A trainer: N sessions, each reset and stepped; prints the seconds that took, then waits to be killed."""


def _rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _descendants(pid: int) -> int:
    """Processes below ``pid`` (the zygote and the session workers)."""
    children: dict[int, list[int]] = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    count, todo = 0, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            count += 1
            todo.append(child)
    return count


def _start_server(max_sessions: int, resume_window_s: float = 60.0) -> tuple[subprocess.Popen[str], str]:
    args = {"default_args": {"env_id": "CartPole-v1"}, "port": 0, "max_sessions": max_sessions}
    args.update(hosting="process", resume_window_s=resume_window_s)
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, json.dumps(args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, f"127.0.0.1:{int(proc.stdout.readline())}"


def _stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _trainer(address: str, n: int) -> tuple[subprocess.Popen[str], float]:
    """Start a trainer and wait until its N sessions work; the process and its own seconds to get them."""
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAINER, address, str(n)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip():
        raise RuntimeError(f"the trainer failed (exit code {proc.wait()})")
    return proc, float(line)


def restart_figures(n: int, runs: int) -> list[tuple[float, float, float]]:
    """Per run, on a new server: (a first trainer's seconds from first connect to N working sessions on the
    empty server, the same for a trainer started after the first was killed, seconds from the kill to that)."""
    results = []
    for _ in range(runs):
        server, address = _start_server(n)
        try:
            trainer, fresh = _trainer(address, n)
            killed = time.perf_counter()
            trainer.kill()
            trainer.wait()
            trainer, own = _trainer(address, n)
            results.append((fresh, own, time.perf_counter() - killed))
            trainer.kill()
            trainer.wait()
        finally:
            _stop(server)
    return results


async def _session(address: str, requests: list[pb.Request]) -> list[pb.Response]:
    """Send ``requests`` on a new session stream, then vanish (no CloseRequest); the replies."""
    channel = open_channel(*split_address(address), None, ClientConfig())
    try:
        call = channel.stream_stream(SESSION_METHOD)(wait_for_ready=True)  # a loaded machine drops SYNs
        replies = []
        for request in requests:
            await call.write(request.SerializeToString())
            replies.append(pb.Response.FromString(await call.read()))
        call.cancel()
        return replies
    finally:
        await channel.close(None)


def _numbered(request: pb.Request, seq: int) -> pb.Request:
    request.seq = seq
    return request


async def _scanners(address: str, connections: int, parallel: int) -> None:
    make = make_request("CartPole-v1", kwargs_json="{}", render_mode=None, compression=False)
    gate = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with gate:
            reply = (await _session(address, [make]))[0]
            assert reply.WhichOneof("kind") == "make", reply

    await asyncio.gather(*(one() for _ in range(connections)))


def scanner_figures(connections: int, parallel: int) -> dict[str, float]:
    """Make-and-vanish ``connections`` times beside one stepped-and-cut session."""
    server, address = _start_server(0, resume_window_s=3600.0)  # the cut session outlives a slow run
    try:
        make = make_request("CartPole-v1", kwargs_json="{}", render_mode=None, compression=False)
        asyncio.run(_scanners(address, 20, parallel))  # warm up the server's allocations
        time.sleep(1.0)
        rss_before = _rss_mib(server.pid)
        cut = asyncio.run(
            _session(address, [make, _numbered(reset_request(0, None), 1), _numbered(step_request(0), 2)])
        )[0].make
        peak = [rss_before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak.append(_rss_mib(server.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        asyncio.run(_scanners(address, connections, parallel))
        took = time.perf_counter() - start
        done.set()
        sampler.join()
        last = time.perf_counter()
        while server_info(address).active_sessions > 1 and time.perf_counter() - last < 30:
            time.sleep(0.01)
        freed = time.perf_counter() - last
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - last)))
        info = server_info(address)
        figures = {
            "seconds for the connections": took,
            "seconds after the last until no worker is held for them": freed,
            "worker processes 1 s after (the cut session's included)": _descendants(server.pid) - 1,
            "sessions open 1 s after": info.active_sessions,
            "of them detached (the cut session)": info.detached_sessions,
            "server RSS before (MiB)": rss_before,
            "server RSS growth at the highest, while they came (MiB)": max(peak) - rss_before,
            "server RSS growth 1 s after (MiB)": _rss_mib(server.pid) - rss_before,
        }
        resumed = asyncio.run(_session(address, [resume_request(cut.session_id, cut.resume_token)]))[0]
        figures["the cut session resumes"] = float(resumed.make.resumed)
        return figures
    finally:
        _stop(server)


def main() -> None:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, default=4, help="the server's max_sessions, and the trainer's"
    )
    parser.add_argument("--runs", type=int, default=5, help="kill-and-restart rounds")
    parser.add_argument(
        "--connections", type=int, default=1000, help="clients that make a session and vanish"
    )
    parser.add_argument("--parallel", type=int, default=16, help="of them at once")
    args = parser.parse_args()
    console = Console()
    console.print(f"load average {os.getloadavg()[0]:.1f}; processes not pinned")
    with console.status("trainer killed and restarted against a full server..."):
        restarts = restart_figures(args.sessions, args.runs)
    table = Table(title=f"restarted trainer, max_sessions {args.sessions} (runs: {args.runs})")
    for column in ("measurement", "median", "runs"):
        table.add_column(column)
    for label, values in (
        (f"empty server: first connect -> {args.sessions} working sessions (s)", [r[0] for r in restarts]),
        (
            f"full server, trainer killed: first connect -> {args.sessions} working (s)",
            [r[1] for r in restarts],
        ),
        ("full / empty, within each run", [r[1] / r[0] for r in restarts]),
        ("SIGKILL -> working again, incl. starting Python (s)", [r[2] for r in restarts]),
    ):
        table.add_row(label, f"{statistics.median(values):.3f}", ", ".join(f"{v:.3f}" for v in values))
    console.print(table)
    if not args.connections:
        return
    with console.status(f"{args.connections} connections that make a session and vanish..."):
        figures = scanner_figures(args.connections, args.parallel)
    table = Table(title=f"{args.connections} make-and-vanish connections beside a stepped-and-cut session")
    table.add_column("measurement")
    table.add_column("value")
    for label, value in figures.items():
        table.add_row(
            label, f"{value:.3f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"
        )
    console.print(table)


if __name__ == "__main__":
    main()
