"""Worker processes: time from spawn to the env's description, resident memory, and what they import.

Starts the server's zygote as the server does, forks CartPole workers from it, and reports medians of
the spawn time (fork + create env + MakeResponse back), each worker's RSS, and whether gRPC's or
cryptography's native libraries are mapped into it (a worker needs neither).

    uv run python benchmarks/bench_worker_start.py --workers 20
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import time

from rich.console import Console
from rich.progress import track
from rich.table import Table

from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.hosting.workers import Zygote

_SPEC = CreateSpec(env_name="CartPole-v1", gym_id="CartPole-v1").to_json()
_LIBRARIES = {"grpc": "cygrpc", "cryptography": "_rust.abi3"}


def _rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _mapped(pid: int, marker: str) -> bool:
    return marker in pathlib.Path(f"/proc/{pid}/maps").read_text()


async def _measure(count: int) -> tuple[list[float], list[int], dict[str, bool]]:
    zygote = Zygote()
    await zygote.start()
    spawn_ms: list[float] = []
    rss: list[int] = []
    loaded = dict.fromkeys(_LIBRARIES, False)
    try:
        for _ in track(range(count), description="spawning workers"):
            start = time.perf_counter()
            worker = await zygote.spawn(_SPEC)
            await worker.first_reply()
            spawn_ms.append((time.perf_counter() - start) * 1e3)
            rss.append(_rss_kib(worker.pid))
            for name, marker in _LIBRARIES.items():
                loaded[name] |= _mapped(worker.pid, marker)
            await worker.stop()
    finally:
        await zygote.stop()
    return spawn_ms, rss, loaded


def main() -> None:
    """Run the measurement and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workers", type=int, default=20, help="workers to spawn one after another (default 20)"
    )
    args = parser.parse_args()
    spawn_ms, rss, loaded = asyncio.run(_measure(args.workers))
    table = Table(title=f"CartPole-v1 workers, {args.workers} spawned one after another (medians)")
    table.add_column("spawn to MakeResponse")
    table.add_column("worker RSS")
    for name in _LIBRARIES:
        table.add_column(f"{name} loaded")
    table.add_row(
        f"{statistics.median(spawn_ms):.1f} ms",
        f"{statistics.median(rss) / 1024:.1f} MiB",
        *("yes" if loaded[name] else "no" for name in _LIBRARIES),
    )
    Console().print(table)


if __name__ == "__main__":
    main()
