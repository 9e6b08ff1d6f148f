"""Measure RLMesh 0.1.0 serving CartPole-v1, the way make_page.py measures remote-gym (a peer, not a dependency).

Runs ONLY inside a virtual environment of its own that has RLMesh (it never imports this project):

    uv venv -p 3.11 .venv-rlmesh && VIRTUAL_ENV=.venv-rlmesh uv pip install rlmesh==0.1.0 gymnasium
    .venv-rlmesh/bin/python benchmarks/peer_rlmesh.py ROUNDS STEPS CONNECTS

The server runs in a process of its own (TCP on loopback), as remote-gym's does. Prints one JSON object:
steps/s per round and connect + first reset seconds per sample.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

SERVER = """
import sys
import gymnasium as gym
from rlmesh import EnvServer
server = EnvServer(gym.make("CartPole-v1"), f"tcp://127.0.0.1:{sys.argv[1]}")
server.start()
print("ready", flush=True)
sys.stdin.read()
server.shutdown()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    """Measure and print JSON."""
    rounds, steps, connects = (int(a) for a in sys.argv[1:4])
    import rlmesh
    from rlmesh.numpy import RemoteEnv

    result: dict[str, object] = {"version": rlmesh.__version__, "steps_per_s": [], "connect_s": []}
    port = _free_port()
    server = _server(port)
    try:
        for _ in range(rounds):
            env = RemoteEnv(f"tcp://127.0.0.1:{port}")
            env.reset(seed=0)
            start = time.perf_counter()
            for _ in range(steps):
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                if terminated or truncated:
                    env.reset()
            result["steps_per_s"].append(steps / (time.perf_counter() - start))  # type: ignore[attr-defined]
            env.close()
        for _ in range(connects):
            start = time.perf_counter()
            env = RemoteEnv(f"tcp://127.0.0.1:{port}")
            env.reset(seed=0)
            result["connect_s"].append(time.perf_counter() - start)  # type: ignore[attr-defined]
            env.close()
    finally:
        _stop(server)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
