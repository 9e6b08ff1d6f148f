"""Benchmark sessions through a hub against the same sessions straight to a server (CartPole-v1), in one run.

Usage:
    uv run python benchmarks/bench_hub.py            # 5 runs
    uv run python benchmarks/bench_hub.py --quick    # a smoke run

Every process runs as an operator starts it: a hub, two hosts dialing it, and two servers of the same
configuration listening for the direct baseline (a dialing host listens nowhere); a third host dials
through a cutting proxy (on its own loopback address, at the hub's port numbers) for the resume row
only. Same-host lanes are off everywhere, so that every step crosses gRPC to the hub, then the hub's
frame stream to the host. In each run, the direct and the hub session of a row are open at once and
step blocks in turn (:mod:`turns`), so that the machine's slow spells fall on both; ratios are taken
within a run, and the table shows medians over runs. Processes are not pinned.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import turns
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym import RemoteEnvironment, RemoteVectorEnv, server_info

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tests.support.proxy import cutting_proxy  # the repository root, just added to the path

ENV_ID = "CartPole-v1"
HOST_TOKEN = "bench-host-token"
HUB_SCRIPT = """
import sys
from remote_gym.hub import Hub, HubConfig
from remote_gym.transport.auth import TokenAuth
hub = Hub(HubConfig(port=0, frames_port=int(sys.argv[2]), host_tokens=(TokenAuth(sys.argv[1]),))).start()
print(hub.port, flush=True)
sys.stdin.read()
hub.stop(0.5)
"""


@contextlib.contextmanager
def server(**options: Any) -> Iterator[int]:
    """A CartPole server process (``dial=`` makes it a dialing host); yields its port (0 when dialing)."""
    args = {"default_args": {"env_id": ENV_ID}, "port": 0, "hosting": "process", "same_host_lane": False}
    with server_port(SERVER_SCRIPT, json.dumps({**args, **options})) as port:
        yield port


def free_port() -> int:
    """A port free on loopback now (for the hub's frame listener, which the cutting proxy mirrors)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_hosts(hub: str, count: int) -> None:
    """Wait until ``count`` hosts are attached to ``hub``."""
    deadline = time.monotonic() + 30
    while len([h for h in server_info(hub).hosts if h.state == "attached"]) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} hosts did not attach to {hub}")
        time.sleep(0.1)


def step_us(direct: str, hub: str, host: str, steps: int) -> tuple[float, float]:
    """Mean µs per step of a CartPole session at ``direct`` and one through ``hub`` on ``host``, in turns."""
    with contextlib.ExitStack() as stack:
        envs = {
            "direct": stack.enter_context(RemoteEnvironment(address=direct, env=ENV_ID)),
            "hub": stack.enter_context(RemoteEnvironment(address=hub, env=ENV_ID, host=host)),
        }
        rates = turns.in_turns({key: turns.env_stepper(env) for key, env in envs.items()}, steps)
    return 1e6 / rates["direct"], 1e6 / rates["hub"]


def vector_rates(direct: list[str], hub: list[str], seconds: float) -> tuple[float, float]:
    """Env-steps/s of 64 CartPole sub-envs over the ``direct`` servers and over the ``hub``'s hosts, in turns."""
    with contextlib.ExitStack() as stack:
        envs = {
            "direct": stack.enter_context(RemoteVectorEnv(ENV_ID, 64, address=direct)),
            "hub": stack.enter_context(RemoteVectorEnv(ENV_ID, 64, address=hub)),
        }
        rates = turns.in_turns(
            {key: turns.vector_stepper(env) for key, env in envs.items()}, max(20, int(seconds * 500))
        )
    return rates["direct"] * 64, rates["hub"] * 64


def resume_s(hub: str, host: str, proxy: Any) -> float:
    """Seconds the step in flight over a hub↔host link that is cut (and at once reachable again) takes."""
    with RemoteEnvironment(address=hub, env=ENV_ID, host=host) as env:
        env.reset(seed=0)
        env.step(0)
        proxy.cut()
        start = time.perf_counter()
        env.step(1)
        return time.perf_counter() - start


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 run, short measurements")
    args = parser.parse_args()
    runs, steps, seconds = (1, 300, 1.0) if args.quick else (args.runs, 2000, 2.0)
    console = Console()
    results: dict[str, list[float]] = {
        k: [] for k in ("direct", "hub", "ratio1", "vdirect", "vhub", "ratio64", "resume")
    }
    with contextlib.ExitStack() as stack:
        frames_port = free_port()
        hub_port = stack.enter_context(server_port(HUB_SCRIPT, HOST_TOKEN, str(frames_port)))
        hub = f"127.0.0.1:{hub_port}"
        mirrored = (frames_port,)
        proxy = stack.enter_context(
            cutting_proxy("127.0.0.1", hub_port, mirror_host="127.0.0.2", also=mirrored)
        )
        dial = {"dial_token": HOST_TOKEN}
        stack.enter_context(server(dial=[hub], dial_name="east", **dial))
        stack.enter_context(server(dial=[hub], dial_name="west", **dial))
        stack.enter_context(server(dial=[f"127.0.0.2:{proxy.port}"], dial_name="cut", **dial))
        direct = [f"127.0.0.1:{stack.enter_context(server())}" for _ in range(2)]
        wait_for_hosts(hub, 3)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("measuring", total=runs)
            for _ in range(runs):
                d, h = step_us(direct[0], hub, "east", steps)
                results["direct"].append(d)
                results["hub"].append(h)
                results["ratio1"].append(h / d)
                vd, vh = vector_rates(direct, [f"east@{hub}", f"west@{hub}"], seconds)
                results["vdirect"].append(vd)
                results["vhub"].append(vh)
                results["ratio64"].append(vh / vd)
                results["resume"].append(resume_s(hub, "cut", proxy))
                progress.advance(task)
    med = {k: statistics.median(v) for k, v in results.items()}
    table = Table(title=f"CartPole-v1 through a hub vs direct (medians of {runs} runs; not pinned)")
    for column in ("measure", "direct", "through the hub", "hub / direct", "target"):
        table.add_column(column, justify="right")
    table.add_row(
        "1 env, µs per step", f"{med['direct']:.0f}", f"{med['hub']:.0f}", f"{med['ratio1']:.2f}x", "<= 1.3x"
    )
    table.add_row(
        "64 envs on 2 hosts, env-steps/s",
        f"{med['vdirect']:,.0f}",
        f"{med['vhub']:,.0f}",
        f"{med['ratio64']:.2f}x",
        ">= 0.9x",
    )
    table.add_row("step across a cut hub-host link, s", "", f"{med['resume']:.3f}", "", "<= 2 s")
    console.print(table)
    for key, what in (
        ("ratio1", "1 env hub/direct"),
        ("ratio64", "64 envs hub/direct"),
        ("resume", "cut step s"),
    ):
        console.print(f"{what} per run: " + ", ".join(f"{v:.2f}" for v in results[key]), highlight=False)


if __name__ == "__main__":
    main()
