"""The built site: a strict MkDocs build into a directory, served on loopback, opened in headless Chromium."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def build(out: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of the repository's site into ``out`` (warnings fail it)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


class _Handler(http.server.SimpleHTTPRequestHandler):
    served: list[tuple[str, int]]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.append((self.path.split("?")[0], int(code) if str(code).isdigit() else 0))


@contextlib.contextmanager
def serving(directory: pathlib.Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Serve ``directory`` on a free loopback port: (base URL, the (path, status) of every request)."""
    served: list[tuple[str, int]] = []
    handler = type("Handler", (_Handler,), {"served": served})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclasses.dataclass(frozen=True)
class Visit:
    """What Chromium showed of one page: its DOM after scripts ran, its console errors, a screenshot."""

    dom: str
    console_errors: list[str]
    screenshot: pathlib.Path


def visit(url: str, profile: pathlib.Path, screenshot: pathlib.Path) -> Visit:
    """Open ``url`` in headless Chromium (loopback only, a fresh profile): its DOM and a screenshot."""
    assert CHROMIUM is not None
    base = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
        f"--user-data-dir={profile}",
    ]
    shown = subprocess.run(
        [*base, "--window-size=1280,1600", f"--screenshot={screenshot}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    console = [
        line
        for line in shown.stderr.splitlines()
        if "CONSOLE" in line and ("error" in line.lower() or "uncaught" in line.lower())
    ]
    return Visit(shown.stdout, console, screenshot)
