"""Measure EnvPool 1.2.7's CartPole-v1 env-steps/s for several numbers of envs (a peer, not a dependency).

Runs ONLY inside a Python 3.12 virtual environment of its own that has EnvPool (it never imports this
project):

    uv venv -p 3.12 .venv-envpool && VIRTUAL_ENV=.venv-envpool uv pip install envpool==1.2.7 gymnasium 'numpy<2'
    .venv-envpool/bin/python benchmarks/peer_envpool.py RUNS SECONDS N1 N2 ...

Prints one JSON object: {"version": ..., "env_steps_per_s": {N: [one sample per run]}}. EnvPool steps
its envs in C++ threads (as many as the machine has cores), all in this one process.
"""

from __future__ import annotations

import json
import sys
import time


def _env_steps_per_s(num_envs: int, seconds: float) -> float:
    import envpool
    import numpy as np

    envs = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=num_envs, seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, 2, num_envs) for _ in range(16)]
    envs.reset()
    for action in actions:  # warm up
        envs.step(action)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions:
            envs.step(action)
        steps += len(actions)
    rate = steps * num_envs / (time.perf_counter() - start)
    envs.close()
    return rate


def main() -> int:
    """Measure and print JSON."""
    import envpool

    runs, seconds = int(sys.argv[1]), float(sys.argv[2])
    sizes = [int(n) for n in sys.argv[3:]]
    samples: dict[str, list[float]] = {str(n): [] for n in sizes}
    for _ in range(runs):
        for n in sizes:
            samples[str(n)].append(_env_steps_per_s(n, seconds))
    print(json.dumps({"version": envpool.__version__, "env_steps_per_s": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
