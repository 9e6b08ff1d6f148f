"""Worker process main loop: owns one session's environment(s) and answers framed requests."""

from __future__ import annotations

import contextlib
import logging
import select
import signal
import socket
import time
from typing import Any, BinaryIO

from remote_gym._constants import POLL_AVERAGE_WEIGHT
from remote_gym.server.framing import read_request, write_frame
from remote_gym.server.handler import CreateSpec
from remote_gym.server.polling import yield_cpu
from remote_gym.server.sequencer import Sequencer, error_bytes
from remote_gym.server.vector_handler import create_handler

logger = logging.getLogger(__name__)


def _poll_readable(sock: socket.socket, budget_s: float) -> None:
    """Wait for the socket to become readable without sleeping, for up to ``budget_s``.

    The server allows this only while the session has the server to itself (no other session sent a
    request lately), so that a client stepping quickly finds the worker awake (a process wake-up
    costs ~40 µs on a small VM); the worker keeps a CPU busy meanwhile, yielding it to any other
    runnable thread.
    """
    deadline = time.perf_counter() + budget_s
    while not select.select((sock,), (), (), 0)[0]:
        if time.perf_counter() > deadline:
            return
        yield_cpu()


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
        poll_s = spec.poll_us * 1e-6
        gap_s = 0.0  # running average of the time from a reply to the next request
        replied_at = 0.0
        may_poll = False
        while True:
            if may_poll and gap_s < poll_s:
                _poll_readable(sock, poll_s)
            request = read_request(reader)
            if request is None:
                return 0
            data, may_poll = request
            if replied_at:
                gap_s += POLL_AVERAGE_WEIGHT * (time.perf_counter() - replied_at - gap_s)
            write_frame(sock, answer(data))
            replied_at = time.perf_counter()
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        with contextlib.suppress(Exception):
            handler.close()
