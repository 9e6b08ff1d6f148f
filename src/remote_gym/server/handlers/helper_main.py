"""The main of a vector session's helper process started by spawn (see :mod:`.shards` and :mod:`.spawned`)."""

from __future__ import annotations

import contextlib
import signal

from remote_gym.server.handlers.cores import LocalVectorCore
from remote_gym.server.handlers.frame_io import FrameReader
from remote_gym.server.handlers.spawned import connect_back, read_start_note
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.handlers.vector import VectorEnvHandler
from remote_gym.server.handlers.worker_loop import serve_requests


def spawned_helper_main() -> None:
    """Connect back to the session's worker, make this share's sub-envs, serve them until it hangs up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    note = read_start_note()
    sock = connect_back(note)
    spec = CreateSpec.from_json(note["spec"])
    handler = VectorEnvHandler(spec, LocalVectorCore(spec), "sync")
    try:
        code = serve_requests(sock, FrameReader(sock.makefile("rb", buffering=1 << 16)), handler)  # type: ignore[arg-type]
    finally:
        with contextlib.suppress(Exception):
            handler.close()
    raise SystemExit(code)
