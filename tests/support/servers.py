"""A server in its own process, for tests that stop or kill it, or that need it outside the test's process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

_SERVER_SCRIPT = """
import json, sys
from remote_gym.testing.server import running_server
with running_server({"CartPole-v1": "CartPole-v1"}, grace=0.1, **json.loads(sys.argv[1])) as server:
    print(server.port, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def server_process(**config: Any) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server (CartPole-v1; ``config``: other ServerConfig fields) in its own process, and its address."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT, json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        yield proc, f"127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
