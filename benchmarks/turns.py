"""Configurations measured in turns, for ratios that a shared machine's slow spells do not bend.

Measured one after the other, two configurations see different moments of the machine: on these
shared 2-core machines a row's rounds differ by up to a third, so a ratio of rows measured seconds
apart moves as much. Here every configuration is open at once and steps a block in turn (A, B, C, A,
B, C, ...), so a slow spell falls on all of them alike; each one's rate counts only its own blocks.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym

Stepper = Callable[[int], float]
"""Steps a configuration ``k`` times; returns the seconds it took."""


def _actions(env: Any, count: int) -> Iterator[Any]:
    """``count`` actions (a vector env's: batches) sampled from ``env``'s action space seeded with 0, in a
    cycle; ``env`` is reset with seed 0."""
    env.action_space.seed(0)
    cycle = itertools.cycle([env.action_space.sample() for _ in range(count)])
    env.reset(seed=0)
    return cycle


def env_stepper(env: gym.Env[Any, Any], actions: int = 4096) -> Stepper:
    """Steps ``env`` with ``actions`` pre-sampled actions (see :func:`_actions`), resetting at episode ends."""
    cycle = _actions(env, actions)

    def run(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            _, _, terminated, truncated, _ = env.step(next(cycle))
            if terminated or truncated:
                env.reset()
        return time.perf_counter() - start

    return run


def vector_stepper(env: Any, rows: int = 512) -> Stepper:
    """Steps a vector env with ``rows`` pre-sampled batches of actions (see :func:`_actions`); it autoresets
    as its own mode says."""
    cycle = _actions(env, rows)

    def run(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            env.step(next(cycle))
        return time.perf_counter() - start

    return run


def in_turns(steppers: dict[str, Stepper], steps: int, blocks: int = 10) -> dict[str, float]:
    """Steps/s of each configuration over ``steps`` steps, in ``blocks`` turns each (after one warm-up block)."""
    block = max(1, steps // blocks)
    for run in steppers.values():
        run(block)
    seconds = dict.fromkeys(steppers, 0.0)
    for _ in range(blocks):
        for name, run in steppers.items():
            seconds[name] += run(block)
    return {name: block * blocks / spent for name, spent in seconds.items()}
