"""A trainer's own work per batch for the benchmarks: a policy's forward pass, on one thread.

Import this module before NumPy: it keeps NumPy's BLAS on one thread (unless the environment says
otherwise), as a trainer that shares its host's cores with env workers would set it. With its
default threads, OpenBLAS's idle threads poll for work after each product and take a core from the
env workers (on these 2-core machines ``batch_size=32`` then fell to 0.6x of ``step()``).
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HIDDEN = 512
"""Width of the policy's two hidden layers: a forward pass over 64 CartPole observations takes about
0.35 ms on one core of these machines, a small CPU policy's cost."""


def mlp_policy(obs_size: int, actions: int, hidden: int = HIDDEN) -> Callable[[Any], Any]:
    """A fixed random ``obs_size``-``hidden``-``hidden``-``actions`` tanh MLP; it maps a batch of
    observations to the argmax actions (as int64, a Discrete space's batch)."""
    rng = np.random.default_rng(0)
    layers = [
        (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
        for shape in ((obs_size, hidden), (hidden, hidden), (hidden, actions))
    ]

    def policy(obs: Any) -> Any:
        h = np.asarray(obs, dtype=np.float32)
        for weights in layers[:-1]:
            h = np.tanh(h @ weights)
        return np.argmax(h @ layers[-1], axis=1).astype(np.int64)

    return policy


def forward_us(policy: Callable[[Any], Any], batch: int, obs_size: int, calls: int = 300) -> float:
    """Median microseconds of one forward pass over ``batch`` observations."""
    obs = np.zeros((batch, obs_size), dtype=np.float32)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        policy(obs)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)
