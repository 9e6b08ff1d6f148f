"""Measure the predecessor, remote-gym 0.7.3, the same way bench_step.py measures this project.

Runs ONLY inside a separate virtual environment that has the old package (it never imports this
project, and this project never imports it):

    python -m venv .venv-073
    .venv-073/bin/pip install remote-gym==0.7.3 dm-env-rpc==1.1.6 gymnasium==0.29.1 'numpy<2'
    uv run python benchmarks/bench_step.py --seed-python .venv-073/bin/python

Prints one JSON object: CartPole steps/s per round and connect + first reset seconds per sample.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time

ENTRYPOINT = """
import gymnasium as gym

def create_environment(enable_rendering: bool = False, env_id: int = 0, **kwargs):
    return gym.make("CartPole-v1")
"""

SERVER = """
import logging, sys
from remote_gym import create_remote_environment_server
server = create_remote_environment_server(
    default_args={"entrypoint": sys.argv[1]}, url="127.0.0.1", port=int(sys.argv[2]), use_thread=True
)
print("ready", flush=True)
sys.stdin.read()
server.stop(None)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    """Measure and print JSON."""
    rounds, steps, connects = (int(a) for a in sys.argv[1:4])
    from remote_gym import RemoteEnvironment  # the 0.7.3 package of this interpreter

    result: dict[str, list[float]] = {"steps_per_s": [], "connect_s": []}
    with tempfile.TemporaryDirectory() as tmp:
        entry = pathlib.Path(tmp, "entrypoint.py")
        entry.write_text(ENTRYPOINT)
        port = _free_port()
        with subprocess.Popen(
            [sys.executable, "-c", SERVER, "entrypoint.py", str(port)],
            cwd=tmp,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            proc.stdout.readline()
            try:
                for _ in range(rounds):
                    env = RemoteEnvironment(url="127.0.0.1", port=port)
                    env.reset(seed=0)
                    start = time.perf_counter()
                    for _ in range(steps):
                        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                        if terminated or truncated:
                            env.reset()
                    result["steps_per_s"].append(steps / (time.perf_counter() - start))
                    env.close()
                    for _ in range(connects):
                        start = time.perf_counter()
                        env = RemoteEnvironment(url="127.0.0.1", port=port)
                        env.reset(seed=0)
                        result["connect_s"].append(time.perf_counter() - start)
                        env.close()
            finally:
                assert proc.stdin is not None
                proc.stdin.close()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
