"""End to end: certificates from `certs`, `serve` as a real process over mutual TLS, `interact`, SIGTERM."""

from __future__ import annotations

import os
import pathlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from remote_gym.cli import compat
from remote_gym.client.env import RemoteEnvironment
from remote_gym.transport.certs import CertPaths
from remote_gym.transport.tls import TLSConfig
from tests.cli.helpers import SERVING, make_console, run_cli

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find child processes"),
]


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc), zombies excluded."""
    parents: dict[int, int] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _Server:
    """A `remote-gym serve` subprocess whose output is read line by line on a thread."""

    def __init__(self, argv: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "remote_gym", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first output line matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern.pattern!r}; output:\n{''.join(self.output)}")

    def text(self) -> str:
        """Everything printed so far."""
        self._reader.join(timeout=5)
        return "".join(self.output)


@pytest.fixture
def certs(tmp_path: pathlib.Path) -> CertPaths:
    """Certificates made by `remote-gym certs`."""
    code, out = run_cli("certs", "--out", str(tmp_path / "certs"))
    assert code == 0, out
    return CertPaths.in_directory(tmp_path / "certs")


@pytest.fixture
def mtls_server(certs: CertPaths) -> Iterator[_Server]:
    """`python -m remote_gym serve CartPole-v1` over mutual TLS on a free loopback port."""
    server = _Server(
        [
            "serve",
            "CartPole-v1",
            "--port",
            "0",
            "--grace",
            "1",
            "--cert",
            str(certs.server_cert),
            "--key",
            str(certs.server_key),
            "--ca",
            str(certs.ca),
        ]
    )
    try:
        yield server
    finally:
        if server.process.poll() is None:
            for pid in _children(server.process.pid):
                os.kill(pid, signal.SIGKILL)
            server.process.kill()
        server.process.wait(timeout=10)
        server.text()
        assert server.process.stdout is not None
        server.process.stdout.close()


def test_serve_interact_over_mtls_then_sigterm_leaves_no_process(
    mtls_server: _Server, certs: CertPaths
) -> None:
    """A served env is played over mTLS by `interact` and the 0.7.x script; SIGTERM then stops
    the server with exit code 0, ending an open session, and leaves no zygote or worker behind."""
    port = int(mtls_server.wait_for(SERVING, timeout=60).group(1))
    address = f"127.0.0.1:{port}"
    tls_flags = ["--ca", str(certs.ca), "--cert", str(certs.client_cert), "--key", str(certs.client_key)]

    code, out = run_cli("interact", address, "--episodes", "2", *tls_flags)
    assert code == 0, out
    assert "(mutual TLS)" in out

    console, buffer = make_console()
    old_flags = ["-u", "127.0.0.1", "-p", str(port), "--root_certificate", str(certs.ca)]
    old_flags += [
        "--client_certificate",
        str(certs.client_cert),
        "--client_private_key",
        str(certs.client_key),
    ]
    assert compat.start_environment_interaction([*old_flags, "--episodes", "1"], console=console) == 0, (
        buffer.getvalue()
    )

    code, out = run_cli("interact", address, "--ca", str(certs.ca), "--connect-timeout", "2")
    assert code == 1
    assert "requires a client certificate" in out

    # Keep a session open through the shutdown: its worker must go too.
    tls = TLSConfig(ca=certs.ca, cert=certs.client_cert, key=certs.client_key)
    env = RemoteEnvironment(address=address, tls=tls)
    try:
        env.reset(seed=0)
        children = _children(mtls_server.process.pid)
        assert len(children) >= 2, "expected the zygote and a worker"  # zygote + this session's worker
        mtls_server.process.send_signal(signal.SIGTERM)
        assert mtls_server.process.wait(timeout=30) == 0
    finally:
        env.close()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)], "processes left behind after SIGTERM"
    text = mtls_server.text()
    assert "session" in text
    assert "opened" in text
    assert "server stopped" in text
