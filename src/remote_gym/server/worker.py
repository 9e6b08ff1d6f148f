"""Worker process main loop: owns one session's environment(s) and answers framed requests."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
from typing import Any, BinaryIO

from remote_gym.server.framing import read_frame, write_frame
from remote_gym.server.handler import CreateSpec
from remote_gym.server.sequencer import Sequencer, error_bytes
from remote_gym.server.vector_handler import create_handler

logger = logging.getLogger(__name__)


def run_forked_worker(sock: socket.socket) -> int:
    """Read the create spec (the socket's first frame, JSON), then :func:`run_worker`; 0 if the server hung up."""
    reader: BinaryIO = sock.makefile("rb", buffering=1 << 16)  # type: ignore[assignment]
    frame = read_frame(reader)
    if frame is None:
        return 0
    return run_worker(sock, json.loads(frame[1]), reader)


def run_worker(sock: socket.socket, spec_json: dict[str, Any], reader: BinaryIO | None = None) -> int:
    """Create the environment, report its description, then serve requests until the server hangs up.

    The first frame written is the ``MakeResponse`` (or an ``Error`` response if creation failed),
    numbered 0. Every frame read afterwards is a serialized ``Request``; each gets one serialized
    ``Response`` in a frame with the request's number.
    The environment is always closed on the way out.

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be created.
    """
    # Ctrl-C in the server's terminal is the server's business; it closes our socket when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if reader is None:
        reader = sock.makefile("rb", buffering=1 << 16)  # type: ignore[assignment]
    assert reader is not None
    spec = CreateSpec.from_json(spec_json)
    try:
        handler = create_handler(spec)
    except BaseException as exc:
        write_frame(sock, error_bytes(exc))
        return 1
    try:
        try:
            described = handler.describe()
        except BaseException as exc:
            write_frame(sock, error_bytes(exc))
            return 1
        write_frame(sock, described.SerializeToString())
        answer = Sequencer(handler.handle).answer
        while True:
            frame = read_frame(reader)
            if frame is None:
                return 0
            number, data = frame
            write_frame(sock, answer(data), number)  # the reply carries its request's number
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        with contextlib.suppress(Exception):
            handler.close()
