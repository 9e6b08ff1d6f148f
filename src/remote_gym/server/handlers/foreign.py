"""The server's one boundary for foreign errors: malformed protobuf, and the pipe of a process that died.

The client's failures are translated in :mod:`remote_gym.transport.status`; this is its counterpart on
the hosting side. It lives beside the handlers, importing neither grpc nor the transport layer, so
that a worker process (which runs the handlers) and the gRPC process translate the same way.
``tests/unit/test_error_boundaries.py`` keeps translations from growing anywhere else.
"""

from __future__ import annotations

import signal

from remote_gym.errors import InvalidCallError, WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.deadline import describe_exit


def parse_request(data: bytes, *, what: str = "request") -> pb.Request:
    """Parse a serialized ``Request`` from the wire.

    Raises:
        InvalidCallError: The bytes are not a ``Request`` (``what`` names it in the message).
    """
    try:
        return pb.Request.FromString(data)
    except Exception as exc:  # protobuf's DecodeError, or anything its parser raises on hostile bytes
        raise InvalidCallError(f"malformed {what}: {exc}") from exc


def process_died_error(process: str, exitcode: int | None) -> WorkerCrashedError:
    """The error for a worker (or a vector env's helper) whose pipe broke: how it ended, from its exit code.

    Args:
        process: Which process, for the message (``"the worker process (pid 12) hosting the environment"``).
        exitcode: Its exit code (negative: the signal that killed it), or None if it has not exited.
    """
    too_long = describe_exit(exitcode)  # the worker ended itself: a request exceeded max_call_s
    if too_long is not None:
        how = too_long
    elif exitcode is not None and exitcode < 0:
        how = f"was killed by signal {-exitcode} ({_signal_name(-exitcode)})"
    elif exitcode is not None:
        how = f"exited with code {exitcode}"
    else:
        how = "stopped answering"
    return WorkerCrashedError(f"{process} {how}", exitcode=exitcode)


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"
