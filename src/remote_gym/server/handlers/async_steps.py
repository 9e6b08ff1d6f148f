"""Asynchronous stepping of a vector session's sub-envs: each on a pool thread, results as they finish.

A session asked for ``async_step`` (capability ``vector_async``) steps the named sub-envs of its
:class:`~remote_gym.server.handlers.cores.LocalVectorCore` one by one, exactly as Gymnasium's
``SyncVectorEnv.step`` steps sub-env ``i`` (its autoreset mode included, and its bookkeeping kept, so
that synchronous calls between asynchronous ones stay exact). Each sub-env step is a job for a pool
of threads; the reply goes out once ``min_ready`` sub-envs have finished (or ``linger_s`` after the first
did) and carries every result ready by then, so a slow sub-env holds up only itself. Envs that wait
(I/O, sleeps, simulators in C that release the GIL) overlap on the pool; a sub-env whose steps are
quick (under :data:`INLINE_S`, measured) is stepped by the request's thread itself, in order, since a
thread hand-off would cost more than its step (pure-Python envs run one at a time anyway, under the GIL).

Quick sub-envs are stepped only as far as the reply needs them: a request stepping more of them than
its ``min_ready`` (or finding enough results ready already) answers first, and the rest are stepped
after its reply went out (:meth:`AsyncStepper.run_deferred`, which the worker's loop calls before it
reads the next request), while the client works on the batch it got. Where nothing calls it, they are
stepped when a later request needs them, or before a synchronous one.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from typing import Any, NamedTuple

import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from remote_gym.errors import InvalidCallError

StepResult = tuple[Any, float, bool, bool, list[dict[str, Any]]]
"""One sub-env's ``(observation, reward, terminated, truncated, infos)``; ``infos`` lists the non-empty
dicts ``SyncVectorEnv`` would add to its vectorised info for it, in order (SAME_STEP: the final one
first); an empty one would add nothing."""

MAX_THREADS = 32
"""Stepping threads per session at most (one per sub-env below that)."""

INLINE_S = 0.0005
"""A sub-env three of whose last four steps took less than this (CPU-bound, like CartPole's ~10 µs) is stepped by
the request's own thread: handing it to a pool thread would cost more than its step."""

PROBE_EVERY = 32
"""A pooled sub-env three of whose last four steps took less than :data:`PROBE_MAX_S` is stepped by the
request's thread once in this many steps: on the pool, a quick env's time also counts its waits for the
GIL and for a CPU (a loaded machine preempts the stepping threads), so it could look slow for ever;
stepped alone, its time tells. A probe of a 1 ms env holds the request up 1 ms in 32 of its steps."""

PROBE_MAX_S = 0.02
"""Pooled sub-envs slower than this are never probed (a truly slow env would hold up the request)."""


def step_one(envs: SyncVectorEnv, i: int, action: Any) -> StepResult:
    """Step sub-env ``i`` of ``envs`` as ``SyncVectorEnv.step`` does within its loop, keeping its bookkeeping.

    Raises:
        InvalidCallError: DISABLED mode, and the sub-env ended its episode without a reset since.
    """
    env = envs.envs[i]
    infos: list[dict[str, Any]] = []
    mode = envs.autoreset_mode
    if mode is AutoresetMode.DISABLED and envs._autoreset_envs[i]:
        raise InvalidCallError(
            f"autoreset_mode DISABLED: sub-env {i} ended its episode and must be reset "
            "(reset(options={'reset_mask': ...})) before its next step"
        )
    reward: Any
    if mode is AutoresetMode.NEXT_STEP and envs._autoreset_envs[i]:
        obs, info = env.reset()
        reward, terminated, truncated = 0.0, False, False
    else:
        obs, reward, terminated, truncated, info = env.step(action)
        if mode is AutoresetMode.SAME_STEP and (terminated or truncated):
            infos.append({"final_obs": obs, "final_info": info})
            obs, info = env.reset()
    if info:
        infos.append(info)
    envs._env_obs[i] = obs
    envs._rewards[i], envs._terminations[i], envs._truncations[i] = reward, terminated, truncated
    envs._autoreset_envs[i] = bool(terminated or truncated)
    return obs, float(reward), bool(terminated), bool(truncated), infos


def _attempt(envs: SyncVectorEnv, i: int, action: Any) -> StepResult | BaseException:
    """:func:`step_one`, its failure returned instead of raised (for the request that collects it)."""
    try:
        return step_one(envs, i, action)
    except BaseException as exc:
        return exc


class AsyncStepper:
    """The pool of stepping threads of one session and the results they produced.

    Args:
        envs: The session's ``SyncVectorEnv``; only this stepper steps its sub-envs between
            :meth:`drain` calls (the handler drains before every other request).
        threads: Stepping threads (started on first use).
    """

    def __init__(self, envs: SyncVectorEnv, threads: int) -> None:
        self._envs = envs
        self._size = max(1, min(threads, MAX_THREADS))
        self._jobs: queue.SimpleQueue[tuple[int, Any] | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._ready: list[tuple[int, StepResult | BaseException]] = []
        self._busy: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._on_pool = 0
        """Jobs handed to the pool and not finished yet (changed with the lock held)."""
        self._failed = False
        """Whether a failure is among the ready results (set with the lock held)."""
        self._seconds = [[float("inf")] * 4 for _ in range(envs.num_envs)]
        """Each sub-env's last four step times (unknown: slow), to tell quick ones from slow ones: a sub-env
        is quick when three of them were, so that neither a slow env's quick autoreset step makes it block
        the request's thread, nor a quick env's one hiccup (a preemption) sends it to the pool."""
        self._pooled = [0] * envs.num_envs
        """Steps on the pool since each sub-env was last stepped by the request's thread (see PROBE_EVERY)."""
        self._quick = [False] * envs.num_envs
        """Whether three of each sub-env's last four steps took under INLINE_S (kept by :meth:`_note`)."""
        self._deferred: list[tuple[int, Any]] = []
        """Quick sub-envs' jobs for the request's thread, in order, not stepped yet (they count as busy)."""

    def submit(self, env_ids: list[int], actions: list[Any]) -> None:
        """Start stepping ``env_ids`` with ``actions``, one job each.

        Raises:
            InvalidCallError: An index out of range, twice in ``env_ids``, or still stepping.
        """
        fresh = set(env_ids)
        with self._cond:
            if (
                len(fresh) != len(env_ids)
                or not fresh.isdisjoint(self._busy)
                or (env_ids and not (min(env_ids) >= 0 and max(env_ids) < self._envs.num_envs))
            ):
                self._refuse(env_ids)
            self._busy |= fresh
        if all(map(self._quick.__getitem__, env_ids)):  # the common case: all for this thread
            self._deferred.extend(zip(env_ids, actions, strict=True))
            return
        for env_id, action in zip(env_ids, actions, strict=True):
            if self._inline(env_id):
                self._deferred.append((env_id, action))  # stepped by collect or run_deferred
                continue
            if not self._threads:
                self._start()
            with self._cond:
                self._on_pool += 1
            self._jobs.put((env_id, action))

    def _refuse(self, env_ids: list[int]) -> None:
        """Raise for the first id of ``env_ids`` that cannot be stepped now (called with the lock held)."""
        num_envs = self._envs.num_envs
        seen: set[int] = set()
        for env_id in env_ids:
            if not 0 <= env_id < num_envs:
                raise InvalidCallError(
                    f"env id {env_id} is not a sub-env of this session (0..{num_envs - 1})"
                )
            if env_id in seen or env_id in self._busy:
                raise InvalidCallError(f"sub-env {env_id} is already stepping; collect its result first")
            seen.add(env_id)

    @property
    def deferred(self) -> bool:
        """Whether quick sub-envs wait for this thread to step them (see :meth:`run_deferred`)."""
        return bool(self._deferred)

    def run_deferred(self, count: int | None = None) -> None:
        """Step the first ``count`` (None: all) quick sub-envs waiting for this thread, in order, and
        publish their results at once (one lock, one notification)."""
        jobs = self._deferred if count is None else self._deferred[:count]
        self._deferred = [] if count is None else self._deferred[count:]
        if not jobs:
            return
        envs, clock, note = self._envs, time.perf_counter, self._note
        results: list[tuple[int, StepResult | BaseException]] = []
        start = clock()
        for env_id, action in jobs:
            result = _attempt(envs, env_id, action)
            end = clock()
            note(env_id, end - start, alone=True)
            results.append((env_id, result))
            start = end
        with self._cond:
            self._busy.difference_update(env_id for env_id, _ in jobs)
            self._ready.extend(results)
            self._failed = self._failed or any(isinstance(r, BaseException) for _, r in results)
            self._cond.notify_all()

    def _inline(self, env_id: int) -> bool:
        """Whether to step ``env_id`` on the request's thread: it is quick, or a probe is due (see PROBE_EVERY)."""
        if self._quick[env_id]:
            return True
        self._pooled[env_id] += 1
        if self._pooled[env_id] >= PROBE_EVERY and sorted(self._seconds[env_id])[2] < PROBE_MAX_S:
            self._pooled[env_id] = 0
            return True
        return False

    def _note(self, env_id: int, seconds: float, *, alone: bool) -> None:
        """Take a step's time into the sub-env's last four. ``alone``: stepped on the request's thread,
        where its time is its own (no stepping thread waits for the GIL in it): a quick one there makes
        the env quick at once."""
        times = self._seconds[env_id]
        if alone and seconds < INLINE_S:
            times[:] = [seconds] * len(times)
            self._quick[env_id] = True
            return
        times.pop(0)
        times.append(seconds)
        self._quick[env_id] = sorted(times)[2] < INLINE_S  # three of the last four steps took at most this

    def _start(self) -> None:
        for n in range(self._size):
            thread = threading.Thread(target=self._work, name=f"async-step-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._run(*job)

    def _step(self, env_id: int, action: Any) -> StepResult | BaseException:
        """Step one sub-env on a pool thread, timing it; its failure is returned, for the request that
        collects it."""
        start = time.perf_counter()
        result = _attempt(self._envs, env_id, action)
        self._note(env_id, time.perf_counter() - start, alone=False)
        return result

    def _run(self, env_id: int, action: Any) -> None:
        result = self._step(env_id, action)
        with self._cond:
            self._busy.discard(env_id)
            self._ready.append((env_id, result))
            self._on_pool -= 1
            self._failed = self._failed or isinstance(result, BaseException)
            self._cond.notify_all()

    def collect(
        self, min_ready: int, linger_s: float, max_wait_s: float = 0.0
    ) -> list[tuple[int, StepResult]]:
        """Wait for ``min_ready`` results (fewer if fewer sub-envs are stepping), or for one and then
        ``linger_s`` more seconds, or (``max_wait_s`` > 0) that long in all; take every ready one.

        Raises:
            BaseException: The first failure of a sub-env among them (``SubEnvError`` names it).
        """
        want = max(1, min_ready)
        if self._deferred:  # step this thread's share only as far as the reply needs it
            with self._cond:
                short = want - len(self._ready)
            if short > 0:
                self.run_deferred(short)
        if not self._on_pool:  # only this thread steps: there is nothing to wait for
            return self._take()
        with self._cond:

            def enough() -> bool:
                return len(self._ready) >= min(want, len(self._ready) + len(self._busy))

            deadline = time.monotonic() + max_wait_s if max_wait_s > 0 else None
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._cond.wait_for(lambda: enough() or bool(self._ready), timeout=left)
            if self._ready and not enough() and linger_s > 0:
                if deadline is not None:
                    linger_s = min(linger_s, max(0.0, deadline - time.monotonic()))
                self._cond.wait_for(enough, timeout=linger_s)
        return self._take()

    def _take(self) -> list[tuple[int, StepResult]]:
        """Every ready result, unless one is a failure: then the first failure is raised (and they all go)."""
        with self._cond:
            ready, self._ready = self._ready, []
            failed, self._failed = self._failed, False
        if failed:
            for _, result in ready:
                if isinstance(result, BaseException):
                    raise result
        return ready  # type: ignore[return-value]

    def drain(self, *, discard: bool = False) -> None:
        """Wait until no sub-env is stepping (before a synchronous request); ``discard`` drops the results."""
        self.run_deferred()
        with self._cond:
            self._cond.wait_for(lambda: not self._busy)
            if discard:
                self._ready, self._failed = [], False

    def close(self) -> None:
        """Stop the threads once the sub-envs they step have finished."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            with contextlib.suppress(RuntimeError):
                thread.join(timeout=10.0)
        self._threads = []


class Batch(NamedTuple):
    """Collected results by field, in the order they were collected; rewards and flags as arrays of
    ``SyncVectorEnv``'s dtypes."""

    env_ids: tuple[int, ...]
    observations: tuple[Any, ...]
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    infos: tuple[list[dict[str, Any]], ...]


def batch_results(results: list[tuple[int, StepResult]]) -> Batch:
    """``results`` (from :meth:`AsyncStepper.collect`) by field, each made in one pass."""
    env_ids, steps = zip(*results, strict=True) if results else ((), ())
    obs, rewards, terminations, truncations, infos = zip(*steps, strict=True) if steps else ((),) * 5
    return Batch(
        env_ids,
        obs,
        np.array(rewards, dtype=np.float64),
        np.array(terminations, dtype=np.bool_),
        np.array(truncations, dtype=np.bool_),
        infos,
    )
