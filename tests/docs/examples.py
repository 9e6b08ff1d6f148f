"""The fenced Python examples of the documentation, and how they run.

Each page's ``python`` blocks run in order, in a fresh directory of their own, as a reader would run
them one after the other:

- a block whose first line is ``# needs: WHAT`` needs what CI lacks (other machines, a GPU, torch, a
  Ray or Kubernetes cluster, Windows): it is reported as skipped, saying WHAT, and is the only kind
  that does not run;
- a block whose first line is ``# FILE.py`` is that file: it is written there (later blocks use it);
- a block that calls ``.wait_for_termination()`` is a server: it starts in its own process and keeps
  serving the page's later blocks until the page ends (a block that starts and stops a server of its
  own runs as any other);
- every other block runs to its end in its own process and must exit 0.

The ports 56765 and 56766 in a page stand for free loopback ports, the same for the whole page; a port
that no server of the page itself binds is served by ``remote-gym serve CartPole-v1``, one server
for all pages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
PORTS = ("56765", "56766")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_FILE = re.compile(r"^# ([\w./-]+\.py)\s*$")
_NEEDS = re.compile(r"^# needs: (.+)$")


@dataclasses.dataclass(frozen=True)
class Example:
    """One fenced block: its page, its line there and its code (indentation removed)."""

    page: pathlib.Path
    line: int
    code: str

    @property
    def first_line(self) -> str:
        """The block's first line."""
        return self.code.splitlines()[0] if self.code.strip() else ""

    @property
    def needs(self) -> str | None:
        """What the block needs that CI lacks, when it says so."""
        match = _NEEDS.match(self.first_line)
        return match.group(1) if match else None

    @property
    def file_name(self) -> str | None:
        """The file the block is, when it names one."""
        match = _FILE.match(self.first_line)
        return match.group(1) if match else None

    @property
    def is_server(self) -> bool:
        """Whether the block serves until stopped."""
        return ".wait_for_termination()" in self.code

    @property
    def binds(self) -> bool:
        """Whether the block starts a server of its own (serving until stopped, or within the block)."""
        return self.is_server or "create_remote_environment_server(" in self.code


def examples(page: pathlib.Path) -> list[Example]:
    """The page's ``python`` blocks, in order."""
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        indent = len(match.group("indent"))
        body = "".join(line[indent:] for line in match.group("body").splitlines(keepends=True))
        found.append(Example(page, text.count("\n", 0, match.start()) + 1, body))
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(argv: list[str], directory: pathlib.Path, port: int, what: str) -> subprocess.Popen[str]:
    """Start ``argv`` in ``directory`` and return once it answers ``server_info`` on ``port``."""
    process = _spawn(argv, directory)
    _wait_until_serving(process, port, what)
    return process


def _spawn(argv: list[str], directory: pathlib.Path) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_until_serving(process: subprocess.Popen[str], port: int, what: str) -> None:
    from remote_gym import server_info

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"{what} exited with {process.returncode} before serving:\n{err}")
        with socket.socket() as sock:
            listening = sock.connect_ex(("127.0.0.1", port)) == 0
        if listening:
            server_info(f"127.0.0.1:{port}")
            return
        if time.monotonic() > deadline:
            stop([process])
            raise AssertionError(f"{what} did not listen on {port} within 60 s")
        time.sleep(0.05)


def stop(processes: list[subprocess.Popen[str]]) -> None:
    """Terminate ``processes`` and reap them."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@contextlib.contextmanager
def shared_servers(directory: pathlib.Path) -> Iterator[dict[str, int]]:
    """``remote-gym serve CartPole-v1`` on a free port for each of PORTS, for pages without servers of their own."""
    ports = {literal: _free_port() for literal in PORTS}
    processes: list[subprocess.Popen[str]] = []
    try:
        for port in ports.values():  # started together: their imports overlap
            command = [sys.executable, "-m", "remote_gym", "serve", "CartPole-v1", "--port", str(port)]
            processes.append(_spawn(command, directory))
        for (literal, port), process in zip(ports.items(), processes, strict=False):
            _wait_until_serving(process, port, f"remote-gym serve for {literal}")
        yield ports
    finally:
        stop(processes)


class PageRun:
    """Runs one page's examples in ``directory``; ``close()`` stops the servers they started."""

    def __init__(self, page: pathlib.Path, directory: pathlib.Path, shared: dict[str, int]) -> None:
        self.page = page
        self.directory = directory
        self.blocks = examples(page)
        own = {literal for block in self.blocks if block.binds for literal in PORTS if literal in block.code}
        # The page's own servers get fresh ports; its clients of other ports use the shared servers.
        self.ports = {literal: _free_port() if literal in own else shared[literal] for literal in PORTS}
        self.processes: list[subprocess.Popen[str]] = []
        self.skipped: list[str] = []

    def _code(self, block: Example) -> str:
        code = block.code
        for literal, port in self.ports.items():
            code = code.replace(literal, str(port))
        return code

    def _start(self, argv: list[str], port: int, what: str) -> None:
        self.processes.append(start_server(argv, self.directory, port, what))

    def run(self) -> None:
        """Run every block, in order; raise AssertionError naming the block that failed."""
        for block in self.blocks:
            where = f"{self.page.relative_to(ROOT)}:{block.line}"
            if block.needs:
                self.skipped.append(f"{where} needs {block.needs}")
                continue
            code = self._code(block)
            if block.file_name:
                path = self.directory / block.file_name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(code)
                compile(code, str(path), "exec")
                continue
            if block.is_server:
                [literal] = [p for p in PORTS if p in block.code]
                self._start([sys.executable, "-c", code], self.ports[literal], f"the server of {where}")
                continue
            result = subprocess.run(
                [sys.executable, "-c", code], cwd=self.directory, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, f"{where} exited with {result.returncode}:\n{result.stderr}"

    def close(self) -> None:
        """Stop the servers the page started."""
        stop(self.processes)


@contextlib.contextmanager
def page_run(page: pathlib.Path, directory: pathlib.Path, shared: dict[str, int]) -> Iterator[PageRun]:
    """A PageRun whose own servers stop when the block ends."""
    run = PageRun(page, directory, shared)
    try:
        yield run
    finally:
        run.close()
