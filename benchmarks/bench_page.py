"""What the monitoring page costs: per-step time of 64 stepping sessions with the page open and refreshing, and closed.

Usage:
    uv run python benchmarks/bench_page.py                      # 7 rounds of 2 x 6 s, 32 lane + 32 gRPC sessions
    uv run python benchmarks/bench_page.py --rounds 5 --phase-s 4 --lane 0 --grpc 64

One server runs in its own process with the page on (``web_port``; its history samples every 2 s in
both phases, as it does whenever the page is served). Client processes (8 sessions each, one thread
per session) step CartPole without pause for the whole run, counting steps in shared memory. Each
round has two phases in alternating order: "closed" (nobody asks the page for anything) and "open"
(a thread of this script fetches what the page's script fetches, ``stats.json`` and ``charts.json``,
at once and then a second after each answer, as an open tab does; a browser's drawing costs the
browser's machine, not the server's). A phase's per-step time is its length times the sessions
stepping, over the steps they made; the ratio is of the medians over rounds (and, less exposed to
a load that changes during the run, the median of each round's own ratio). Beside it, the server's
CPU time (its process, zygote and workers, from ``/proc``) per step made, which depends less on
what else the machine runs. At the end, with the sessions open but idle, it measures what one refresh
costs the server in CPU time, the idle server's own use subtracted. Placement is not pinned.
"""

from __future__ import annotations

# remote_gym first, as in a user's script: it picks gRPC's transport before grpc is imported.
from remote_gym import ClientConfig, RemoteEnvironment  # isort: skip
import argparse
import json
import multiprocessing as mp
import socket
import statistics
import threading
import time
import urllib.request
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from rich.console import Console
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

SESSIONS_PER_PROCESS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(
    port: int,
    lane: bool,
    first: int,
    count: int,
    steps: SynchronizedArray[Any],
    ready: Any,
    stop: Any,
    pause: Any,
) -> None:
    """Open ``count`` sessions and step each from its own thread until ``stop``; count in ``steps``."""
    config = ClientConfig(same_host_lane=lane)
    envs = [RemoteEnvironment(url="127.0.0.1", port=port, config=config) for _ in range(count)]
    counters = steps.get_obj()

    def play(index: int, env: RemoteEnvironment) -> None:
        env.reset(seed=index)
        ready.release()
        n = 0
        while not stop.is_set():
            if pause.is_set():  # the sessions stay open, idle
                time.sleep(0.05)
                continue
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            n += 1
            if terminated or truncated:
                env.reset()
            counters[first + index] = n

    threads = [threading.Thread(target=play, args=(i, env)) for i, env in enumerate(envs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for env in envs:
        env.close()


def _server_pid() -> int:
    """The benchmark server's process: this process's child running the server script."""
    import os

    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as children:
            for pid in children.read().split():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        if b"create_remote_environment_server" in cmdline.read():
                            return int(pid)
                except OSError:
                    continue
    raise RuntimeError("the server process was not found")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants alive now."""
    import os

    from remote_gym.server.memory import with_descendants

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in with_descendants(pid):
        try:
            with open(f"/proc/{each}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _refresh(url: str, stop: threading.Event, fetches: Any, first_s: float) -> None:
    """What an open page does: stats.json and charts.json, then again a second after the answers came."""
    wait = first_s
    while not stop.wait(wait):
        _fetch_page(url)
        with fetches.get_lock():
            fetches.value += 1
        wait = 1.0


def _fetch_page(url: str) -> None:
    for path in ("stats.json", "charts.json"):
        urllib.request.urlopen(url + path, timeout=30).read()


def _refresh_cost(pid: int, url: str, refreshes: int) -> tuple[float, float]:
    """Server CPU ms per refresh (idle sessions; the idle server's own CPU over as long subtracted), and
    the wall ms a refresh took."""
    start_cpu, start = _cpu_s(pid), time.perf_counter()
    time.sleep(3.0)
    idle_per_s = (_cpu_s(pid) - start_cpu) / (time.perf_counter() - start)
    start_cpu, start = _cpu_s(pid), time.perf_counter()
    for _ in range(refreshes):
        _fetch_page(url)
    took = time.perf_counter() - start
    used = _cpu_s(pid) - start_cpu - idle_per_s * took
    return used / refreshes * 1e3, took / refreshes * 1e3


def main() -> int:
    """Run the rounds and print the medians and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--phase-s", type=float, default=6.0, help="seconds per phase (default 6)")
    parser.add_argument("--lane", type=int, default=32, help="sessions on the same-host lane (default 32)")
    parser.add_argument("--grpc", type=int, default=32, help="sessions through the gRPC process (default 32)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    total = args.lane + args.grpc
    web_port = _free_port()
    server_args = json.dumps(
        {"default_args": {"env_id": "CartPole-v1"}, "port": 0, "hosting": "process", "web_port": web_port}
    )
    ctx = mp.get_context("spawn")
    steps = ctx.Array("q", total)
    ready = ctx.Semaphore(0)
    stop = ctx.Event()
    pause = ctx.Event()
    console = Console(stderr=True)
    samples: dict[str, list[float]] = {"closed": [], "open": []}
    cpu: dict[str, list[float]] = {"closed": [], "open": []}
    """Server CPU time (gRPC process, zygote and workers) per step made, µs: less sensitive than wall time
    to what else the machine runs."""
    fetches = ctx.Value("i", 0)
    with server_port(SERVER_SCRIPT, server_args) as port:
        server_pid = _server_pid()
        clients = []
        first = 0
        for lane, count in ((True, args.lane), (False, args.grpc)):
            for start in range(0, count, SESSIONS_PER_PROCESS):
                n = min(SESSIONS_PER_PROCESS, count - start)
                clients.append(
                    ctx.Process(
                        target=_client, args=(port, lane, first, n, steps, ready, stop, pause), daemon=True
                    )
                )
                first += n
        for client in clients:
            client.start()
        try:
            for _ in range(total):
                if not ready.acquire(timeout=120):
                    raise RuntimeError("the sessions did not start")
            console.print(f"{total} sessions stepping; warming up")
            time.sleep(args.phase_s)
            for i in range(args.rounds):
                for phase in ("closed", "open") if i % 2 == 0 else ("open", "closed"):
                    page_stop = threading.Event()
                    refresher = None
                    if phase == "open":
                        url = f"http://127.0.0.1:{web_port}/"
                        refresher = threading.Thread(target=_refresh, args=(url, page_stop, fetches, 0.0))
                        refresher.start()
                    fetched = fetches.value
                    cpu_before = _cpu_s(server_pid)
                    before, start_t = sum(steps.get_obj()), time.perf_counter()
                    time.sleep(args.phase_s)
                    made, took = sum(steps.get_obj()) - before, time.perf_counter() - start_t
                    cpu[phase].append((_cpu_s(server_pid) - cpu_before) / max(made, 1) * 1e6)
                    samples[phase].append(took * total / max(made, 1) * 1e6)
                    if refresher is not None:
                        page_stop.set()
                        refresher.join(30)
                    console.print(
                        f"round {i + 1} {phase}: {samples[phase][-1]:.0f} µs per step, "
                        f"{fetches.value - fetched} refreshes"
                    )
            pause.set()
            time.sleep(1.0)
            refresh_cpu_ms, refresh_ms = _refresh_cost(server_pid, f"http://127.0.0.1:{web_port}/", 10)
        finally:
            stop.set()
            for client in clients:
                client.join(30)
    closed, opened = (statistics.median(samples[k]) for k in ("closed", "open"))
    report = {
        "sessions": {"lane": args.lane, "grpc": args.grpc},
        "rounds": args.rounds,
        "phase_s": args.phase_s,
        "closed_us_per_step": samples["closed"],
        "open_us_per_step": samples["open"],
        "median_closed_us": closed,
        "median_open_us": opened,
        "ratio_open_closed": opened / closed,
        "median_round_ratio": statistics.median(
            o / c for o, c in zip(samples["open"], samples["closed"], strict=True)
        ),
        "page_refreshes": fetches.value,
        "refresh_server_cpu_ms": refresh_cpu_ms,
        "refresh_wall_ms": refresh_ms,
        "server_cpu_us_per_step": cpu,
        "median_server_cpu_closed": statistics.median(cpu["closed"]),
        "median_server_cpu_open": statistics.median(cpu["open"]),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = Table(
        title=f"{total} CartPole sessions ({args.lane} lane, {args.grpc} gRPC), per-session step time, "
        f"medians of {args.rounds} rounds (not pinned)"
    )
    table.add_column("page")
    table.add_column("median µs per step", justify="right")
    table.add_column("rounds", justify="right")
    table.add_column("server CPU µs per step", justify="right")
    for key, label in (("closed", "closed"), ("open", "open, refreshing each second")):
        table.add_row(
            label,
            f"{statistics.median(samples[key]):,.0f}",
            " ".join(f"{x:,.0f}" for x in samples[key]),
            f"{report['median_server_cpu_' + key]:.0f}",
        )
    out = Console()
    out.print(table)
    cpu_ratio = report["median_server_cpu_open"] / report["median_server_cpu_closed"]
    out.print(
        f"ratio open/closed: step time {opened / closed:.3f} (median of the rounds' own ratios "
        f"{report['median_round_ratio']:.3f}), server CPU per step {cpu_ratio:.3f} "
        f"({fetches.value} page refreshes)"
    )
    out.print(
        f"one refresh, {total} sessions open and idle: {refresh_cpu_ms:.1f} ms of server CPU, "
        f"{refresh_ms:.0f} ms to answer"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
