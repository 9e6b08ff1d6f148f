"""What monitoring costs: CartPole steps/s through a server with monitoring off, and on with a scraper.

Usage:
    uv run python benchmarks/bench_metrics.py                 # 7 rounds of 5,000 steps each
    uv run python benchmarks/bench_metrics.py --rounds 3 --steps 1000

Two servers run in their own processes (worker process per session, as by default): one with
``monitoring=False`` (no per-request accounting at all), one with ``monitoring=True`` and a metrics
endpoint that a thread of this script scrapes every second while the steps run. Each round measures
both, in alternating order, so machine noise spreads over both; the ratio is of the medians.
Placement is not pinned.
"""

from __future__ import annotations

# remote_gym first, as in a user's script: it picks gRPC's transport before grpc is imported.
from remote_gym import ClientConfig, RemoteEnvironment  # isort: skip
import argparse
import json
import socket
import statistics
import threading
import time
import urllib.request

from rich.console import Console
from rich.table import Table
from servers import SERVER_SCRIPT, server_port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _steps_per_s(port: int, steps: int) -> float:
    # Through the server (no same-host lane): the path on which every request is counted.
    with RemoteEnvironment(url="127.0.0.1", port=port, config=ClientConfig(same_host_lane=False)) as env:
        env.reset(seed=0)
        for _ in range(200):  # warm up
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                env.reset()
        start = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return steps / (time.perf_counter() - start)


def _accounting_us(n: int = 200_000) -> float:
    """Median µs the gRPC process spends per request on accounting (SessionCounts.record + histogram)."""
    import asyncio

    from remote_gym.server.ledger import Ledger, SessionCounts
    from remote_gym.server.metrics import ServerMetrics
    from remote_gym.server.sessions import SessionTable

    async def build() -> SessionCounts:
        return SessionCounts(ServerMetrics(SessionTable(0.0, Ledger("process"))).latency_observers)

    counts = asyncio.run(build())
    clock = time.perf_counter
    rounds = []
    for _ in range(5):
        start = clock()
        for _ in range(n):
            begin = clock()  # as the servicer does: two clock reads, the kind, the record
            counts.record(3, 24, 120, clock() - begin)
        rounds.append((clock() - start) / n * 1e6)
    return statistics.median(rounds)


def _scrape_every_second(url: str, stop: threading.Event, scrapes: list[float]) -> None:
    while not stop.wait(1.0):
        start = time.perf_counter()
        urllib.request.urlopen(url, timeout=10).read()
        scrapes.append(time.perf_counter() - start)


def main() -> int:
    """Run the rounds and print the medians and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--steps", type=int, default=5000, help="steps per measurement (default 5000)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    base = {"default_args": {"env_id": "CartPole-v1"}, "port": 0, "hosting": "process"}
    off_args = json.dumps({**base, "monitoring": False})
    metrics_port = _free_port()
    on_args = json.dumps({**base, "metrics_port": metrics_port})
    samples: dict[str, list[float]] = {"off": [], "on": []}
    scrapes: list[float] = []
    with server_port(SERVER_SCRIPT, off_args) as off_port, server_port(SERVER_SCRIPT, on_args) as on_port:
        ports = {"off": off_port, "on": on_port}
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        stop = threading.Event()
        scraper = threading.Thread(
            target=_scrape_every_second, args=(metrics_url, stop, scrapes), daemon=True
        )
        scraper.start()
        try:
            for i in range(args.rounds):
                for key in ("off", "on") if i % 2 == 0 else ("on", "off"):
                    samples[key].append(_steps_per_s(ports[key], args.steps))
        finally:
            stop.set()
            scraper.join()
    off, on = (statistics.median(samples[k]) for k in ("off", "on"))
    accounting = _accounting_us()
    report = {
        "rounds": args.rounds,
        "steps": args.steps,
        "off_steps_per_s": samples["off"],
        "on_steps_per_s": samples["on"],
        "median_off": off,
        "median_on": on,
        "ratio_on_off": on / off,
        "accounting_us_per_request": accounting,
        "scrapes": len(scrapes),
        "median_scrape_ms": statistics.median(scrapes) * 1e3 if scrapes else None,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = Table(title=f"CartPole-v1 steps/s, worker process, medians of {args.rounds} rounds (not pinned)")
    table.add_column("server")
    table.add_column("median steps/s", justify="right")
    table.add_column("rounds", justify="right")
    table.add_row("monitoring off", f"{off:,.0f}", " ".join(f"{x:,.0f}" for x in samples["off"]))
    table.add_row(
        "metrics on, scraped each second", f"{on:,.0f}", " ".join(f"{x:,.0f}" for x in samples["on"])
    )
    console = Console()
    console.print(table)
    console.print(
        f"ratio on/off: {on / off:.3f}; {len(scrapes)} scrapes, median {report['median_scrape_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
