"""Benchmark remote PettingZoo envs (pistonball_v6, 20 agents) against the local env, in one run.

Usage (needs the pettingzoo-games extra, in an environment of its own; see docs/guides/pettingzoo.md):
    uv run --no-dev --extra pettingzoo-games python benchmarks/bench_pettingzoo.py
    ... bench_pettingzoo.py --quick     # a smoke run

Two figures, each a median over runs of ratios measured back to back within a run:

* one Parallel env on the same host: remote steps/s over local steps/s, on the same-host lane and
  over gRPC only (the lane turned off on the client);
* 16 copies: vectorised over 2 servers (8 copies each, one message per server per step) against 16
  local copies stepped in one process (the SuperSuit shape: one vector env over all agents).

Servers run as separate processes started the way an operator starts them; processes are not pinned.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from servers import SERVER_SCRIPT, server_port

from remote_gym import ClientConfig
from remote_gym.pettingzoo import RemoteAgentVectorEnv, RemoteParallelEnv

ENV_ID = "butterfly/pistonball-v6"
COPIES = 16
MIN_STEPS = 4
"""Fewest steps a measurement takes, however long: on a loaded machine a vector step takes seconds."""


@contextlib.contextmanager
def server_process() -> Iterator[str]:
    """A remote-gym server hosting pistonball in its own process; yields its address."""
    args = {"default_args": {"pettingzoo": ENV_ID}, "port": 0, "hosting": "process", "max_sessions": 0}
    with server_port(SERVER_SCRIPT, json.dumps(args)) as port:
        yield f"127.0.0.1:{port}"


def parallel_steps_per_s(env: Any, seconds: float) -> float:
    """Steps per second of a Parallel env with random actions (drawn before timing)."""
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [
        {agent: rng.uniform(-1, 1, (1,)).astype(np.float32) for agent in env.possible_agents}
        for _ in range(16)
    ]
    for action in actions[:3]:
        env.step(action)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < MIN_STEPS:
        for action in actions:
            env.step(action)
            steps += 1
            if not env.agents:
                env.reset()
    return steps / (time.perf_counter() - start)


class LocalCopies:
    """16 local Parallel copies stepped in one process as one array over all agents (SuperSuit's shape)."""

    def __init__(self, make: Callable[[], Any], copies: int) -> None:
        self.envs = [make() for _ in range(copies)]
        self.agents = list(self.envs[0].possible_agents)
        space = self.envs[0].observation_space(self.agents[0])
        self.obs = np.zeros((copies * len(self.agents), *space.shape), space.dtype)
        self.num_envs = len(self.obs)

    def reset(self, seed: int) -> None:
        for c, env in enumerate(self.envs):
            observations, _ = env.reset(seed=seed + c)
            for i, agent in enumerate(self.agents):
                self.obs[c * len(self.agents) + i] = observations[agent]

    def step(self, actions: np.ndarray) -> np.ndarray:
        n = len(self.agents)
        for c, env in enumerate(self.envs):
            observations, *_ = env.step(
                {a: actions[c * n + i] for i, a in enumerate(self.agents) if a in env.agents}
            )
            if not env.agents:
                observations, _ = env.reset()
            for i, agent in enumerate(self.agents):
                if agent in observations:
                    self.obs[c * n + i] = observations[agent]
        return self.obs.copy()

    def close(self) -> None:
        for env in self.envs:
            env.close()


def vector_steps_per_s(envs: Any, seconds: float) -> float:
    """Vector steps per second (each steps every agent of every copy)."""
    rng = np.random.default_rng(0)
    actions = [rng.uniform(-1, 1, (envs.num_envs, 1)).astype(np.float32) for _ in range(4)]
    envs.reset(seed=0)
    envs.step(actions[0])
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < MIN_STEPS:
        for action in actions:
            envs.step(action)
            steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    """Measure, then print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="2 runs of 1 s")
    args = parser.parse_args()
    runs, seconds = (2, 1.0) if args.quick else (args.runs, args.seconds)
    warnings.simplefilter("ignore")
    import pettingzoo

    figures: dict[str, list[float]] = {k: [] for k in ("local", "lane", "grpc", "local16", "remote16")}
    with server_process() as first, server_process() as second, Progress(transient=True) as progress:
        task = progress.add_task("measuring", total=runs)
        local = pettingzoo.make("parallel", ENV_ID)
        lane = RemoteParallelEnv(first)
        grpc_only = RemoteParallelEnv(first, config=ClientConfig(same_host_lane=False))
        local16 = LocalCopies(lambda: pettingzoo.make("parallel", ENV_ID), COPIES)
        remote16 = RemoteAgentVectorEnv([first, second], copies=COPIES // 2)
        try:
            for _ in range(runs):
                figures["local"].append(parallel_steps_per_s(local, seconds))
                figures["lane"].append(parallel_steps_per_s(lane, seconds))
                figures["grpc"].append(parallel_steps_per_s(grpc_only, seconds))
                figures["local16"].append(vector_steps_per_s(local16, seconds))
                figures["remote16"].append(vector_steps_per_s(remote16, seconds))
                progress.advance(task)
        finally:
            for env in (local, lane, grpc_only, local16, remote16):
                env.close()
    table = Table(title=f"pistonball_v6 (20 agents), medians of {runs} runs of {seconds:g} s; not pinned")
    for column in ("configuration", "steps/s", "ratio to its baseline (median of per-run ratios)"):
        table.add_column(column)

    def ratio(a: str, b: str) -> str:
        return f"{statistics.median(x / y for x, y in zip(figures[a], figures[b], strict=True)):.2f}x"

    table.add_row("local Parallel env", f"{statistics.median(figures['local']):.1f}", "baseline")
    table.add_row(
        "remote, same-host lane", f"{statistics.median(figures['lane']):.1f}", ratio("lane", "local")
    )
    table.add_row("remote, gRPC only", f"{statistics.median(figures['grpc']):.1f}", ratio("grpc", "local"))
    table.add_row(
        f"{COPIES} local copies, one process", f"{statistics.median(figures['local16']):.1f}", "baseline"
    )
    table.add_row(
        f"{COPIES} copies over 2 servers",
        f"{statistics.median(figures['remote16']):.1f}",
        ratio("remote16", "local16"),
    )
    Console().print(table)


if __name__ == "__main__":
    main()
