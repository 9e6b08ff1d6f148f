"""Worker process main loop: owns one session's environment(s) and answers framed requests."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from typing import Any, BinaryIO

from remote_gym.server.framing import read_frame, write_frame
from remote_gym.server.handler import CreateSpec
from remote_gym.server.sequencer import Sequencer, error_bytes
from remote_gym.server.vector_handler import create_handler

logger = logging.getLogger(__name__)


def run_worker(sock: socket.socket, spec_json: dict[str, Any]) -> int:
    """Create the environment, report its description, then serve requests until the server hangs up.

    The first frame written is the ``MakeResponse`` (or an ``Error`` response if creation failed).
    Every frame read afterwards is a serialized ``Request``; each gets one serialized ``Response``.
    The environment is always closed on the way out.

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be created.
    """
    # Ctrl-C in the server's terminal is the server's business; it closes our socket when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reader: BinaryIO = sock.makefile("rb", buffering=1 << 16)  # type: ignore[assignment]
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
            data = read_frame(reader)
            if data is None:
                return 0
            write_frame(sock, answer(data))
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        with contextlib.suppress(Exception):
            handler.close()
