"""A worker process's main: create the session's environment(s) from the spec, then answer framed requests."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
from typing import Any, BinaryIO

from remote_gym.server.handlers.factory import create_handler
from remote_gym.server.handlers.frame_io import FrameReader, write_frame
from remote_gym.server.handlers.lane import logger as lane_logger
from remote_gym.server.handlers.lane import serve_with_lane
from remote_gym.server.handlers.lane_spec import LaneSpec
from remote_gym.server.handlers.rules import SessionRules
from remote_gym.server.handlers.sequencer import error_bytes
from remote_gym.server.handlers.spawned import connect_back, preload, read_start_note
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.handlers.worker_loop import serve_requests


def run_forked_worker(sock: socket.socket) -> int:
    """Read the create spec (the socket's first frame, JSON), then :func:`run_worker`; 0 if the server hung up."""
    _log_warnings_to_stderr()
    stream: BinaryIO = sock.makefile("rb", buffering=1 << 16)  # type: ignore[assignment]
    reader = FrameReader(stream)
    frame = reader.read()
    if frame is None:
        return 0
    return run_worker(sock, json.loads(frame[1]), reader)


def spawned_worker_main() -> None:
    """The main of a worker started by spawn (:mod:`.spawner`): preload, connect back, then serve one session.

    Reads its start note on stdin; imports what the hosted envs need (a warm worker is then ready the
    moment a session comes); connects back to the server and presents its secret; then reads the spec
    and serves like a forked worker. Exits when the server closes the socket (also if the server died).
    """
    note = read_start_note()
    preload(note.get("preload", []))
    sock = connect_back(note)
    raise SystemExit(run_forked_worker(sock))


def _log_warnings_to_stderr() -> None:
    """The lane's warnings (a refused connection) go to the server's stderr, which the worker inherits.

    The worker is a fresh interpreter: the server's logging configuration does not reach it.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("remote-gym worker %(process)d: %(levelname)s %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger(lane_logger.name).addHandler(handler)


def run_worker(sock: socket.socket, spec_json: dict[str, Any], reader: FrameReader) -> int:
    """Create the environment, report its description, then serve requests until the server hangs up.

    The first frame written is the ``MakeResponse`` (or an ``Error`` response if creation failed),
    numbered 0. Every frame read afterwards is a serialized ``Request``; each gets one serialized
    ``Response`` in a frame with the request's number. The environment is always closed on the way out.

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be created.
    """
    # Ctrl-C in the server's terminal is the server's business; it closes our socket when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spec_json = dict(spec_json)
    lane_json = spec_json.pop("lane", None)
    rules = SessionRules.from_json(spec_json.pop("rules", None))
    try:
        handler = create_handler(CreateSpec.from_json(spec_json))
    except BaseException as exc:
        write_frame(sock, error_bytes(exc))
        return 1
    try:
        if lane_json is not None:  # the client is on this host: also answer it directly
            return serve_with_lane(sock, reader, handler, LaneSpec.from_json(lane_json), rules)
        return serve_requests(sock, reader, handler, rules)
    finally:
        with contextlib.suppress(Exception):
            handler.close()
