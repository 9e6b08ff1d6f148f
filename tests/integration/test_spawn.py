"""Worker processes started by spawn, and the same-host lane over loopback TCP: the Windows and macOS path, run here.

One server (``worker_start="spawn"``, ``lane_transport="tcp"``, warm workers) hosts every test env;
each test checks that something forked workers do works the same with spawned ones.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from remote_gym import RemoteVectorEnv
from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.stats import StatsClient
from remote_gym.errors import ConnectionLostError, RemoteEnvError, WorkerCrashedError
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from tests.conftest import hosted_environments

pytestmark = pytest.mark.integration

POSIX = os.name == "posix"

MISSING_DEPENDENCY = """\
import gymnasium as gym
import remote_gym_no_such_dependency  # noqa: F401


def create_environment(enable_rendering, env_id, **kwargs):
    return gym.make("CartPole-v1")
"""


@pytest.fixture(scope="module")
def spawn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    """Spawned workers (3 kept warm), a TCP lane, a 3 s max_call_s, and an env whose module cannot import."""
    entry = tmp_path_factory.mktemp("envs") / "broken_entry.py"
    entry.write_text(MISSING_DEPENDENCY)
    hosted = {**hosted_environments(), "Broken": {"entrypoint": str(entry)}}
    with running_server(
        hosted,
        hosting="process",
        worker_start="spawn",
        lane_transport="tcp",
        warm_workers=3,
        max_call_s=3.0,
        workers_per_session=1,
        grace=0.5,
    ) as server:
        _wait_warm(server, 3)
        yield server


def _wait_warm(server: EnvServer, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _spawner(server).warm_ready < count and time.monotonic() < deadline:
        time.sleep(0.1)


def _spawner(server: EnvServer):  # type: ignore[no-untyped-def]
    return server._zygote  # the server's worker starter (a Spawner here)


def _worker_pid(server: EnvServer, session_id: str) -> int:
    with StatsClient(server.address) as stats:
        (session,) = [s for s in stats.fetch().sessions if s.session_id == session_id]
    return int(session.worker_pid)


def test_episodes_match_local_over_the_tcp_lane(spawn_server: EnvServer) -> None:
    """A spawned worker answers on a TCP lane; the trajectory is the local env's, bit for bit."""
    local = gym.make("CartPole-v1")
    with RemoteEnvironment(address=spawn_server.address, env="CartPole-v1") as remote:
        lane = remote._connection._lane  # type: ignore[union-attr]
        assert lane.path == "lane"
        assert lane.lane is not None
        assert lane.lane.path.startswith("tcp:127.0.0.1:")
        rng = np.random.default_rng(0)
        assert data_equivalence(remote.reset(seed=5), local.reset(seed=5), exact=True)
        for _ in range(300):
            action = int(rng.integers(2))
            a, b = remote.step(action), local.step(action)
            assert data_equivalence(a, b, exact=True)
            if b[2] or b[3]:
                assert data_equivalence(remote.reset(), local.reset(), exact=True)
    local.close()


def test_env_exception_is_a_typed_error_and_the_session_goes_on(spawn_server: EnvServer) -> None:
    with RemoteEnvironment(address=spawn_server.address, env="Raising") as env:
        env.reset(seed=0)
        env.step(1)
        env.step(1)
        with pytest.raises(RemoteEnvError, match="boom at step 3") as info:
            env.step(1)
        assert info.value.remote_traceback
        env.reset(seed=1)
        env.step(0)


def test_missing_dependency_gives_the_workers_traceback_quickly(spawn_server: EnvServer) -> None:
    """An env module that cannot import: a typed error with the worker's traceback within 5 s; the server goes on."""
    _wait_warm(spawn_server, 1)
    start = time.monotonic()
    with pytest.raises(RemoteEnvError) as info:
        RemoteEnvironment(address=spawn_server.address, env="Broken")
    assert time.monotonic() - start < 5.0
    assert "remote_gym_no_such_dependency" in str(info.value) + (info.value.remote_traceback or "")
    assert "Traceback" in (info.value.remote_traceback or "")
    with RemoteEnvironment(address=spawn_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)


def test_worker_exiting_mid_step_is_worker_crashed(spawn_server: EnvServer) -> None:
    with RemoteEnvironment(address=spawn_server.address, env="Exiting") as env:
        env.reset(seed=0)
        env.step(0)
        with pytest.raises(WorkerCrashedError) as info:
            env.step(1)
        assert info.value.exitcode == 3
        with pytest.raises(ConnectionLostError):
            env.step(0)


@pytest.mark.skipif(not POSIX, reason="signals")
def test_killed_spawned_worker_is_the_same_error_as_a_killed_forked_one(spawn_server: EnvServer) -> None:
    """SIGKILL from outside: WorkerCrashedError naming the signal, as with forked workers; others go on."""
    with RemoteEnvironment(address=spawn_server.address, env="CartPole-v1") as env:
        env.reset(seed=0)
        os.kill(_worker_pid(spawn_server, env.session_id), signal.SIGKILL)
        with pytest.raises(WorkerCrashedError, match=r"was killed by signal 9 \(SIGKILL\)") as info:
            env.step(0)
        assert info.value.exitcode == -signal.SIGKILL
    with RemoteEnvironment(address=spawn_server.address, env="CartPole-v1") as other:
        other.reset(seed=0)
        other.step(0)


def test_hung_env_is_stopped_by_the_watchdog_thread(spawn_server: EnvServer) -> None:
    """max_call_s in a spawned worker is the watchdog thread (Windows' mechanism), on Linux too."""
    with RemoteEnvironment(address=spawn_server.address, env="Hanging", kwargs={"hang_s": 30.0}) as env:
        env.reset(seed=0)
        start = time.monotonic()
        with pytest.raises(WorkerCrashedError, match="max_call_s") as info:
            env.step(1)
        assert time.monotonic() - start < 8.0
        assert info.value.exitcode == 124  # EXIT_CALL_TOO_LONG: the thread, not SIGALRM


def test_a_client_without_the_capability_gets_no_tcp_lane(spawn_server: EnvServer) -> None:
    """A 1.0.0 client knows only Unix lane paths: it is never offered a TCP one."""
    import grpc

    from remote_gym.codec.requests import make_request
    from remote_gym.protocol.v1 import remote_gym_pb2 as pb

    request = make_request("CartPole-v1", kwargs_json="{}", render_mode=None, compression=False)
    del request.make.capabilities[:]  # as a client of 1.0.0 sends (it has none)
    with grpc.insecure_channel(spawn_server.address) as channel:
        session = channel.stream_stream(
            "/remote_gym.v1.RemoteGym/Session",
            request_serializer=pb.Request.SerializeToString,
            response_deserializer=pb.Response.FromString,
        )
        call = session(iter([request]), timeout=60)
        reply = next(call)
        call.cancel()
    assert reply.WhichOneof("kind") == "make"
    assert reply.make.lane_path == ""
    assert reply.make.lane_secret == b""


def test_vector_session_with_spawned_helpers_and_restarts() -> None:
    """workers_per_session=2: the worker spawns its helper; steps equal a local SyncVectorEnv's; a
    failing sub-env in the helper's share is restarted and counted in the figures."""
    local = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(4)])
    hosted = {"CartPole-v1": "CartPole-v1", "Raising": hosted_environments()["Raising"]}
    with running_server(hosted, hosting="process", worker_start="spawn", workers_per_session=2) as server:
        remote = RemoteVectorEnv(address=server.address, env="CartPole-v1", num_envs=4)
        try:
            assert data_equivalence(remote.reset(seed=1), local.reset(seed=1), exact=True)
            for _ in range(50):
                actions = np.array([0, 1, 1, 0])
                assert data_equivalence(remote.step(actions), local.step(actions), exact=True)
        finally:
            remote.close()
        failing = RemoteVectorEnv(address=server.address, env="Raising", num_envs=4, on_env_failure="restart")
        try:
            failing.reset(seed=0)
            for _ in range(3):
                failing.step(np.array([1, 1, 1, 1]))
            with StatsClient(server.address) as stats:
                (session,) = stats.fetch().sessions
            assert session.env_restarts == 4  # two sub-envs in the worker, two in its spawned helper
        finally:
            failing.close()
    local.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table with ps")
def test_sessions_leave_no_process_and_the_pool_stays_warm(spawn_server: EnvServer) -> None:
    """Each session's worker exits with it; the warm pool is topped up; no process is left over."""
    _wait_warm(spawn_server, 3)
    before = set(_spawned_pids())
    used = []
    for i in range(5):
        with RemoteEnvironment(address=spawn_server.address, env="CartPole-v1") as env:
            env.reset(seed=i)
            used.append(_worker_pid(spawn_server, env.session_id))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(used) & set(_spawned_pids()):
        time.sleep(0.05)
    assert not set(used) & set(_spawned_pids())
    _wait_warm(spawn_server, 3)
    # Each warm worker a session took was replaced by one new worker, and nothing else was started
    # (other tests' workers in ``before``, waiting in their resume window, may end meanwhile).
    new = set(_spawned_pids()) - before
    assert len(new) == len(set(used) & before) <= 3


def _spawned_pids() -> list[int]:
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(None, 2) for line in out.splitlines()[1:]]
    me = str(os.getpid())
    return [int(pid) for pid, ppid, args in rows if ppid == me and "spawned_worker_main" in args]


def test_serve_stops_its_spawned_workers_on_interrupt(tmp_path: pathlib.Path) -> None:
    """Ctrl+C (SIGINT; CTRL_BREAK_EVENT on Windows) stops `serve --worker-start spawn`: no worker is left."""
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from remote_gym.cli.main import main
            sys.exit(main(["serve", "CartPole-v1", "--port", "0", "--worker-start", "spawn",
                           "--warm-workers", "2", "--grace", "1"]))
            """
        )
    )
    flags = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {}  # type: ignore[attr-defined]
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, **flags)
    try:
        assert proc.stdout is not None
        while "serving on" not in (line := proc.stdout.readline()):
            assert line, "serve exited before serving"
        children: list[int] = []
        deadline = time.monotonic() + 60
        while len(children) < 2 and time.monotonic() < deadline:
            children = _children_of(proc.pid)
            time.sleep(0.2)
        assert len(children) >= 2
        proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt" else signal.SIGINT)  # type: ignore[attr-defined]
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _children_of(pid: int) -> list[int]:
    if os.name == "nt":
        query = f"(Get-CimInstance Win32_Process -Filter 'ParentProcessId={pid}').ProcessId"
        out = subprocess.run(
            ["powershell", "-NoProfile", "-Command", query], capture_output=True, text=True
        ).stdout
        return [int(word) for word in out.split() if word.isdigit()]
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(None, 2) for line in out.splitlines()[1:]]
    return [int(p) for p, ppid, args in rows if ppid == str(pid) and "spawned_worker_main" in args]


def _alive(pid: int) -> bool:
    if os.name == "nt":
        out = subprocess.run(["tasklist", "/FI", f"PID eq {pid}"], capture_output=True, text=True).stdout
        return str(pid) in out
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_env_code_from_a_git_repository_in_spawned_workers(tmp_path: pathlib.Path) -> None:
    """An entrypoint checked out from the operator's repository runs (and is preloaded) in spawned workers."""
    from remote_gym import create_remote_environment_server
    from tests.support.git_origin import CARTPOLE_ENTRY, Origin

    origin = Origin(tmp_path / "remote")
    origin.commit({"envs/entry.py": CARTPOLE_ENTRY})
    args = {"repo": origin.url, "reference": "main", "entrypoint": "envs/entry.py"}
    with create_remote_environment_server(
        args, port=0, repo_cache_dir=tmp_path / "cache", worker_start="spawn", warm_workers=1
    ) as server:
        _wait_warm(server, 1)
        with RemoteEnvironment(address=server.address) as env:
            assert env.reset(seed=0)[0].shape == (4,)
            env.step(0)


def test_a_worker_that_dies_while_importing_the_env_gives_worker_crashed(tmp_path: pathlib.Path) -> None:
    """An env module that ends the interpreter when imported: warm workers die preloading it (the pool
    retries later); the session's own worker dies too, and the client gets WorkerCrashedError quickly."""
    entry = tmp_path / "dying_entry.py"
    entry.write_text("import os\nos._exit(5)\n")
    with running_server(
        {"Dying": {"entrypoint": str(entry)}}, hosting="process", worker_start="spawn", warm_workers=1
    ) as server:
        start = time.monotonic()
        with pytest.raises(WorkerCrashedError, match="exited with code 5") as info:
            RemoteEnvironment(address=server.address, env="Dying")
        assert info.value.exitcode == 5
        assert time.monotonic() - start < 15.0  # a cold interpreter on a loaded 2-core machine
        assert server.active_sessions == 0
