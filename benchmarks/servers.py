"""Server processes for the benchmark scripts: each started the way a user would start one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence

SERVER_SCRIPT = """
import json, sys
from remote_gym import create_remote_environment_server
server = create_remote_environment_server(**json.loads(sys.argv[1]))
print(server.port, flush=True)
sys.stdin.read()
server.stop(0.5)
"""
"""A remote-gym server with ``create_remote_environment_server(**json)``; prints its port, stops at EOF."""


@contextlib.contextmanager
def server_port(
    script: str,
    *args: str,
    cpus: set[int] | None = None,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
) -> Iterator[int]:
    """Run a server script (which prints its port, then serves until stdin closes); yields the port.

    ``cpus`` pins the process before it starts, so its zygote and workers inherit the placement.
    ``prefix`` goes before the command (``ip netns exec NS``: a server in another network namespace).
    """

    def pin() -> None:  # runs in the child before exec
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    with subprocess.Popen(
        [*prefix, sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=pin,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.strip():
                raise RuntimeError("benchmark server did not start")
            yield int(line)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
