"""Which thread steps a sub-env of an asynchronous vector session: the request's own, or a pool thread.

A quick sub-env is stepped by the request's thread (a hand-off would cost more than its step); a slow
one on the pool, so that it holds up nobody. On the pool a quick env can look slow (its time counts the
waits for the GIL and for a CPU on a loaded machine): a probe on the request's thread now and then
tells, so it does not stay on the pool for ever.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import SyncVectorEnv

from remote_gym.server.handlers.async_steps import INLINE_S, PROBE_EVERY, AsyncStepper


class _ThreadAware(gym.Env[np.ndarray, int]):
    """Records which thread stepped it; sleeps ``pool_s`` when that is a pool thread, ``own_s`` otherwise."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, pool_s: float, own_s: float) -> None:
        self.pool_s, self.own_s = pool_s, own_s
        self.threads: list[str] = []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        name = threading.current_thread().name
        self.threads.append(name)
        time.sleep(self.pool_s if name.startswith("async-step") else self.own_s)
        return np.zeros(1, np.float32), 0.0, False, False, {}


def _run(pool_s: float, own_s: float, steps: int, seen: list[list[float]] | None = None) -> list[str]:
    """Step one such sub-env ``steps`` times through a stepper; the names of the threads that stepped it.

    ``seen`` gets, before each step, the stepper's record of the sub-env's last four step times.
    """
    envs = SyncVectorEnv([lambda: _ThreadAware(pool_s, own_s)])
    envs.reset(seed=0)
    stepper = AsyncStepper(envs, threads=2)
    try:
        for _ in range(steps):
            if seen is not None:
                seen.append(list(stepper._seconds[0]))
            stepper.submit([0], [1])
            assert [env_id for env_id, _ in stepper.collect(1, 0.0)] == [0]
    finally:
        stepper.close()
    return list(envs.envs[0].unwrapped.threads)


def test_a_quick_env_that_looks_slow_on_the_pool_moves_to_the_requests_thread() -> None:
    """Slow only on pool threads (as under contention): a probe finds it quick, and it stays off the pool
    for as long as its steps there measure quick."""
    seen: list[list[float]] = []
    threads = _run(pool_s=0.002, own_s=0.0, steps=PROBE_EVERY + 20, seen=seen)
    on_pool = [name.startswith("async-step") for name in threads]
    assert all(on_pool[: PROBE_EVERY - 1])  # unknown, then slow-looking: the pool
    first_own = on_pool.index(False)
    assert first_own <= PROBE_EVERY
    # Measured quick where it is alone: it stays there. Only a loaded machine can send it back (its
    # no-op steps preempted past INLINE_S twice in four), and then the stepper's record says so.
    for step in range(first_own + 1, len(on_pool)):
        if on_pool[step]:
            assert sorted(seen[step])[2] >= INLINE_S, (step, seen[step])
            break


def test_a_slow_env_is_probed_rarely_and_stays_on_the_pool() -> None:
    """2 ms everywhere: at most one step in PROBE_EVERY on the request's thread, the rest on the pool."""
    threads = _run(pool_s=0.002, own_s=0.002, steps=3 * PROBE_EVERY)
    own = sum(not name.startswith("async-step") for name in threads)
    assert 1 <= own <= 3


def test_an_env_slower_than_the_probe_bound_is_never_stepped_by_the_request() -> None:
    """30 ms steps (over PROBE_MAX_S): never on the request's thread, so they hold up no other sub-env."""
    threads = _run(pool_s=0.03, own_s=0.03, steps=PROBE_EVERY + 4)
    assert all(name.startswith("async-step") for name in threads)


def _quick_stepper(num_envs: int) -> tuple[AsyncStepper, list[_ThreadAware]]:
    """A stepper over ``num_envs`` quick envs, stepped until it knows them all quick."""
    envs = SyncVectorEnv([lambda: _ThreadAware(0.0, 0.0) for _ in range(num_envs)])
    envs.reset(seed=0)
    stepper = AsyncStepper(envs, threads=2)
    ids = list(range(num_envs))
    for _ in range(6):
        stepper.submit(ids, [0] * num_envs)
        stepper.drain()
        stepper.collect(num_envs, 0.0)
    return stepper, [env.unwrapped for env in envs.envs]  # type: ignore[misc]


def test_quick_sub_envs_beyond_the_reply_are_stepped_after_it() -> None:
    """collect steps only as many quick sub-envs as its reply needs; run_deferred steps the rest, and a
    request that finds enough results ready steps nothing before answering."""
    stepper, envs = _quick_stepper(4)
    try:
        before = [len(env.threads) for env in envs]
        stepper.submit([0, 1, 2, 3], [1, 1, 1, 1])
        assert [env_id for env_id, _ in stepper.collect(2, 0.0)] == [0, 1]
        assert [len(env.threads) - n for env, n in zip(envs, before, strict=True)] == [1, 1, 0, 0]
        assert stepper.deferred
        stepper.run_deferred()  # what the worker does once the reply is out
        assert not stepper.deferred
        assert [len(env.threads) - n for env, n in zip(envs, before, strict=True)] == [1, 1, 1, 1]
        stepper.submit([0, 1], [1, 1])
        ready = stepper.collect(2, 0.0)
        assert [env_id for env_id, _ in ready] == [2, 3]  # ready already: answered at once
        assert [len(env.threads) - n for env, n in zip(envs, before, strict=True)] == [1, 1, 1, 1]
        stepper.drain()  # before a synchronous request: whatever waits is stepped
        assert [len(env.threads) - n for env, n in zip(envs, before, strict=True)] == [2, 2, 1, 1]
    finally:
        stepper.close()


class _Failing(_ThreadAware):
    """Sleeps ``step_s`` in every step; raises on action 1; returns an info only on action 2."""

    action_space = spaces.Discrete(3)

    def __init__(self, step_s: float) -> None:
        super().__init__(step_s, step_s)
        self.step_s = step_s

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        time.sleep(self.step_s)
        if action == 1:
            raise RuntimeError("boom")
        return np.zeros(1, np.float32), 0.0, False, False, ({"two": 2} if action == 2 else {})


def test_a_failure_is_raised_once_by_the_collect_that_takes_it_on_either_path() -> None:
    """Quick sub-envs only (no pool job: nothing to wait for), then slow ones on the pool: the collect
    that takes a failed step raises it; the next one answers normally. Empty infos are not kept."""
    for step_s in (0.0, 0.002):  # stepped by the request's thread; on the pool
        envs = SyncVectorEnv([lambda step_s=step_s: _Failing(step_s) for _ in range(2)])
        envs.reset(seed=0)
        stepper = AsyncStepper(envs, threads=2)
        try:
            for _ in range(6):  # known quick or slow by now
                stepper.submit([0, 1], [0, 0])
                stepper.drain()
                stepper.collect(2, 0.0)
            stepper.submit([0, 1], [2, 1])
            stepper.drain()
            with pytest.raises(RuntimeError, match="boom"):
                stepper.collect(2, 0.0)
            stepper.submit([0, 1], [2, 0])
            stepper.drain()
            ready = dict(stepper.collect(2, 0.0))
            assert sorted(ready) == [0, 1]
            assert ready[0][4] == [{"two": 2}]
            assert ready[1][4] == []
        finally:
            stepper.close()
