"""Several client processes stepping one server at once: steps/s summed over them, against one client.

Usage:
    uv run python benchmarks/bench_clients.py            # 5 rounds
    uv run python benchmarks/bench_clients.py --quick    # a smoke run

Method: common.py.
"""

from __future__ import annotations

import subprocess
import sys

import common  # first: it imports remote_gym, which picks gRPC's transport  # isort: skip

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


def concurrent_clients(port: int, steps: int, cpu: int | None) -> float:
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


def main(argv: list[str] | None = None) -> int:
    """Measure one client, then several at once, and print the table."""
    args = common.parser(__doc__).parse_args(argv)
    rows = {
        "process": common.Row("remote CartPole-v1, process hosting", "steps/s", note="one client; lane"),
        "clients4": common.Row(
            f"remote CartPole-v1, {CONCURRENT_CLIENTS} clients at once",
            "steps/s",
            note="sum over client processes; process hosting, lane",
            kind="sum",
        ),
    }
    with common.Bench(args) as bench:
        port = bench.server("CartPole-v1")
        bench.run_rounds(
            rows,
            [
                ("process", lambda: common.remote(port, args.steps)),
                ("clients4", lambda: concurrent_clients(port, args.steps, bench.client_cpu)),
            ],
        )
        ratio = rows["clients4"].median / rows["process"].median
        return bench.finish(
            "concurrent clients",
            rows,
            {"clients_vs_one": ratio},
            [f"{CONCURRENT_CLIENTS} clients at once step {ratio:.2f} × as many steps/s as one client alone."],
        )


if __name__ == "__main__":
    sys.exit(main())
