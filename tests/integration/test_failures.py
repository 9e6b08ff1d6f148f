"""Failures stay in their session and reach the client as typed errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from remote_gym.client.config import Timeouts
from remote_gym.client.env import RemoteEnvironment
from remote_gym.errors import (
    ConnectionLostError,
    DeadlineExceededError,
    EnvClosedError,
    EnvNotFoundError,
    InvalidActionError,
    InvalidCallError,
    PermissionDeniedError,
    RemoteEnvError,
    WorkerCrashedError,
)
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_env_exception_becomes_remote_env_error(env_server: EnvServer) -> None:
    """An env raising in step gives RemoteEnvError with its message, type and traceback."""
    with RemoteEnvironment(address=env_server.address, env="Raising") as env:
        env.reset(seed=0)
        env.step(0)
        env.step(0)
        with pytest.raises(RemoteEnvError, match="boom at step 3") as info:
            env.step(1)
        assert info.value.remote_type == "builtins.ValueError"
        assert "Traceback" in info.value.remote_traceback
        assert info.value.reason == "ENV_ERROR"


def test_session_goes_on_after_env_exception(env_server: EnvServer) -> None:
    """After RemoteEnvError the same session can reset and step again."""
    with RemoteEnvironment(address=env_server.address, env="Raising") as env:
        env.reset(seed=0)
        env.step(0)
        env.step(0)
        with pytest.raises(RemoteEnvError):
            env.step(1)
        obs, _ = env.reset(seed=1)
        assert obs in env.observation_space
        assert env.step(0)[0] in env.observation_space


def test_other_sessions_unaffected_by_env_exception(env_server: EnvServer) -> None:
    """A failing session does not disturb a concurrent one."""
    with (
        RemoteEnvironment(address=env_server.address, env="Raising") as bad,
        RemoteEnvironment(address=env_server.address, env="CartPole-v1") as good,
    ):
        good.reset(seed=0)
        bad.reset(seed=0)
        bad.step(0)
        bad.step(0)
        with pytest.raises(RemoteEnvError):
            bad.step(1)
        for _ in range(5):
            good.step(0)


def test_invalid_action_is_refused_before_the_env(env_server: EnvServer) -> None:
    """An action outside the action space raises InvalidActionError and the env never sees it."""
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)
        with pytest.raises(InvalidActionError, match="not an element"):
            env.step(5)
        with pytest.raises(InvalidActionError):
            env.step(np.array([0.5, 0.5]))
        assert isinstance(env.step(1)[1], float)


def test_invalid_action_is_a_value_error(env_server: EnvServer) -> None:
    """InvalidActionError can be caught as ValueError, as a local env's assertion-free check would be."""
    with RemoteEnvironment(address=env_server.address, env="Pendulum-v1") as env:
        env.reset(seed=0)
        with pytest.raises(ValueError):  # noqa: PT011 -- the builtin mix-in is what is tested
            env.step(np.array([5.0], dtype=np.float32))


def test_step_before_reset_is_invalid_call(env_server: EnvServer) -> None:
    """step() before reset() raises InvalidCallError (Gymnasium's ResetNeeded)."""
    with (
        RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env,
        pytest.raises(InvalidCallError),
    ):
        env.step(0)


def test_killed_worker_raises_worker_crashed(env_server: EnvServer) -> None:
    """An env whose process exits mid-step gives WorkerCrashedError with the exit code."""
    with RemoteEnvironment(address=env_server.address, env="Exiting") as env:
        env.reset(seed=0)
        env.step(0)
        with pytest.raises(WorkerCrashedError) as info:
            env.step(1)
        assert info.value.exitcode == 3
        with pytest.raises(ConnectionLostError):
            env.step(0)


def test_aborting_worker_raises_worker_crashed(env_server: EnvServer) -> None:
    """An env that aborts (SIGABRT, like a segfault) gives WorkerCrashedError; the server goes on."""
    with RemoteEnvironment(address=env_server.address, env="Aborting") as env:
        env.reset(seed=0)
        with pytest.raises(WorkerCrashedError) as info:
            env.step(1)
        assert info.value.exitcode == -signal.SIGABRT
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)
        env.step(0)


def test_hanging_env_hits_the_call_deadline(env_server: EnvServer) -> None:
    """A step that hangs raises DeadlineExceededError at the client's deadline, not later."""
    timeouts = Timeouts(call=0.5)
    with RemoteEnvironment(
        address=env_server.address, env="Hanging", kwargs={"hang_s": 20.0}, timeouts=timeouts
    ) as env:
        env.reset(seed=0)
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            env.step(1)
        assert time.monotonic() - start < 3.0
        with pytest.raises(ConnectionLostError):
            env.step(0)


def test_unknown_env_is_env_not_found(env_server: EnvServer) -> None:
    """Asking for an environment the server does not host raises EnvNotFoundError naming it."""
    with pytest.raises(EnvNotFoundError, match="NoSuchEnv-v0"):
        RemoteEnvironment(address=env_server.address, env="NoSuchEnv-v0")


def test_client_cannot_name_an_entrypoint(tmp_path: object) -> None:
    """A client sending 0.7.x-style entrypoint/repo arguments is refused; nothing is executed."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline") as server:
        with pytest.raises(PermissionDeniedError, match="entrypoint"):
            RemoteEnvironment(address=server.address, remote_args={"entrypoint": "evil.py"})
        with pytest.raises(PermissionDeniedError, match="repo"):
            RemoteEnvironment(address=server.address, remote_args={"repo": "https://example.invalid/x.git"})


def test_unlisted_kwargs_are_refused() -> None:
    """Keyword arguments the operator did not allow are refused with PermissionDeniedError."""
    hosted = {"Pendulum-v1": {"gym_id": "Pendulum-v1", "kwargs": {"g": 9.81}}}
    with running_server(hosted, hosting="inline") as server:
        with RemoteEnvironment(address=server.address, remote_args={"entrypoint_kwargs": {"g": 5.0}}) as env:
            assert env.reset(seed=0)[0].shape == (3,)
        with pytest.raises(PermissionDeniedError, match="max_episode_steps"):
            RemoteEnvironment(address=server.address, kwargs={"max_episode_steps": 3})


def test_env_constructor_failure_is_remote_env_error(env_server: EnvServer) -> None:
    """An environment whose constructor raises gives RemoteEnvError at connect time."""
    with pytest.raises(RemoteEnvError, match="hang_s"):
        RemoteEnvironment(address=env_server.address, env="Hanging", kwargs={"hang_s": -1.0})


def test_use_after_close_raises_env_closed(env_server: EnvServer) -> None:
    """close() is idempotent and any later call raises EnvClosedError."""
    env = RemoteEnvironment(address=env_server.address, env="CartPole-v1")
    env.reset(seed=0)
    env.close()
    env.close()
    with pytest.raises(EnvClosedError):
        env.step(0)
    with pytest.raises(EnvClosedError):
        env.reset()


def _settled_sessions(server: EnvServer) -> int:
    """Sessions open once earlier tests' closing sessions are gone (waits up to 5 s)."""
    deadline = time.monotonic() + 5
    last = server.active_sessions
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = server.active_sessions
        if now == last == 0:
            break
        last = now
    return server.active_sessions


def test_sessions_are_freed_on_close(env_server: EnvServer) -> None:
    """Closing clients frees their sessions on the server."""
    before = _settled_sessions(env_server)
    envs = [RemoteEnvironment(address=env_server.address, env="CartPole-v1") for _ in range(3)]
    assert env_server.active_sessions == before + 3
    for env in envs:
        env.close()
    deadline = time.monotonic() + 5
    while env_server.active_sessions > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert env_server.active_sessions == before


_CLIENT_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from remote_gym import RemoteEnvironment
    env = RemoteEnvironment(address=sys.argv[1], env="CartPole-v1")
    env.reset(seed=0)
    print(env.session_id, flush=True)
    time.sleep(60)
    """
)


def test_killed_client_frees_its_worker() -> None:
    """After a client process is SIGKILLed, its session and worker are gone once the resume window passed.

    The server cannot tell a dead client from a dropped connection; it keeps the session for the
    window (here 1 s) in case the client resumes it.
    """
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", resume_window_s=1.0) as server:
        workers_before = set(_worker_pids())
        with subprocess.Popen(
            [sys.executable, "-c", _CLIENT_SCRIPT, server.address], stdout=subprocess.PIPE, text=True
        ) as proc:
            try:
                assert proc.stdout is not None
                assert proc.stdout.readline().strip()
                new_workers = set(_worker_pids()) - workers_before
                assert len(new_workers) == 1
                assert server.active_sessions == 1
            finally:
                proc.kill()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and (
            any(_pid_alive(p) for p in new_workers) or server.active_sessions
        ):
            time.sleep(0.05)
        assert not any(_pid_alive(p) for p in new_workers)
        assert server.active_sessions == 0


def _worker_pids() -> list[int]:
    """Pids of live worker processes of servers in this test process (children of our zygotes)."""
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(None, 2) for line in out.splitlines()[1:]]
    me = str(os.getpid())
    zygotes = {pid for pid, ppid, args in rows if ppid == me and "remote_gym.server.zygote" in args}
    return [int(pid) for pid, ppid, _ in rows if ppid in zygotes]


def test_many_concurrent_sessions(env_server: EnvServer) -> None:
    """64 concurrent sessions on one server each step correctly."""
    envs = [RemoteEnvironment(address=env_server.address, env="CartPole-v1") for _ in range(64)]
    try:
        for i, env in enumerate(envs):
            env.reset(seed=i)
        for env in envs:
            assert env.step(0)[0].shape == (4,)
        assert env_server.active_sessions >= 64
    finally:
        for env in envs:
            env.close()


def test_sigkilled_worker_raises_worker_crashed(env_server: EnvServer) -> None:
    """A worker killed from outside (SIGKILL) gives WorkerCrashedError naming the signal; others go on."""
    before = set(_worker_pids())
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)
        (pid,) = set(_worker_pids()) - before
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashedError, match="SIGKILL") as info:
            env.step(0)
        assert info.value.exitcode == -signal.SIGKILL
    with RemoteEnvironment(address=env_server.address, env="CartPole-v1") as other:
        other.reset(seed=0)
        other.step(0)


def test_hanging_session_does_not_slow_the_others(env_server: EnvServer) -> None:
    """While one session's env hangs in step, another session keeps stepping at its usual pace."""
    stuck_timeouts = Timeouts(call=3.0)
    with (
        RemoteEnvironment(
            address=env_server.address, env="Hanging", kwargs={"hang_s": 20.0}, timeouts=stuck_timeouts
        ) as stuck,
        RemoteEnvironment(address=env_server.address, env="CartPole-v1") as other,
    ):
        stuck.reset(seed=0)
        other.reset(seed=0)

        def steps() -> float:
            start = time.monotonic()
            for _ in range(200):
                _, _, terminated, truncated, _ = other.step(0)
                if terminated or truncated:
                    other.reset()
            return time.monotonic() - start

        baseline = steps()
        outcome: list[BaseException] = []

        def hang() -> None:
            try:
                stuck.step(1)
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=hang)
        thread.start()
        time.sleep(0.2)  # the stuck step is running on the server now
        during = steps()
        thread.join(10)
        assert len(outcome) == 1
        assert isinstance(outcome[0], DeadlineExceededError)
        assert during < max(3 * baseline, 1.0), (
            f"200 steps took {during:.2f} s during the hang, {baseline:.2f} s before"
        )
