"""Soak: many sessions, sequential and concurrent, leave no processes, threads or memory behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from remote_gym import RemoteEnvironment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVER = """
import sys
from remote_gym import create_remote_environment_server
server = create_remote_environment_server(default_args={"env_id": "CartPole-v1"}, port=0, max_sessions=64)
print(server.port, flush=True)
sys.stdin.read()
server.stop(1.0)
"""


def _status(pid: int) -> tuple[int, int]:
    """(RSS in kB, thread count) of a process."""
    with open(f"/proc/{pid}/status") as file:
        fields = dict(line.split(":", 1) for line in file.read().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["Threads"])


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid"], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines()[1:]:
        child, parent = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.fixture
def server_process() -> Iterator[tuple[int, int]]:
    """A server in its own process (pid, port), so its resources can be measured alone."""
    with subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdin is not None
        try:
            yield proc.pid, int(proc.stdout.readline())
        finally:
            proc.stdin.close()
            proc.wait(20)


def _settle(pid: int, expected_children: int, timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        children = _descendants(pid)
        if len(children) <= expected_children or time.monotonic() > deadline:
            return children
        time.sleep(0.1)


def test_sequential_and_concurrent_sessions_leak_nothing(server_process: tuple[int, int]) -> None:
    """200 connect/step/close cycles, then 32 concurrent clients: no leaked workers, threads or memory."""
    pid, port = server_process
    for _ in range(20):  # warm-up: imports, caches, first worker
        with RemoteEnvironment(port=port) as env:
            env.reset(seed=0)
    base_children = _settle(pid, 1)  # only the zygote
    rss_start, threads_start = _status(pid)

    for i in range(200):
        with RemoteEnvironment(port=port) as env:
            env.reset(seed=i)
            for _ in range(5):
                env.step(env.action_space.sample())

    errors: list[BaseException] = []

    def client(seed: int) -> None:
        try:
            with RemoteEnvironment(port=port) as env:
                env.reset(seed=seed)
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline:
                    _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                    if terminated or truncated:
                        env.reset()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors

    children = _settle(pid, len(base_children))
    rss_end, threads_end = _status(pid)
    print(f"\nserver RSS {rss_start} kB -> {rss_end} kB; threads {threads_start} -> {threads_end}")
    assert children == base_children, "worker processes left behind"
    assert threads_end <= threads_start + 2
    assert rss_end - rss_start < 40_000, f"server RSS grew {rss_end - rss_start} kB"
    assert os.path.exists(f"/proc/{pid}")
