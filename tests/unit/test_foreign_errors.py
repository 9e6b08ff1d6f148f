"""What the two boundaries make of foreign failures: the same failure reads the same wherever it happens."""

from __future__ import annotations

import asyncio
import signal

import grpc
import pytest

from remote_gym import errors
from remote_gym.server.handlers.foreign import parse_request, process_died_error
from remote_gym.transport.status import (
    REASON_METADATA_KEY,
    foreign_error,
    map_errors,
    parse_response,
)

# Bytes that are no protobuf message: field 1, length-delimited, longer than what follows.
NOT_A_MESSAGE = b"\x0a\xff\xff\xff\x0f"


def _rpc_error(code: grpc.StatusCode, details: str = "", reason: str = "") -> grpc.aio.AioRpcError:
    trailing = grpc.aio.Metadata((REASON_METADATA_KEY, reason)) if reason else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_rpc_error(grpc.StatusCode.UNAVAILABLE, "down"), errors.ConnectionLostError),
        (_rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), errors.DeadlineExceededError),
        (_rpc_error(grpc.StatusCode.NOT_FOUND, "gone", reason="SESSION"), errors.SessionExpiredError),
        (_rpc_error(grpc.StatusCode.UNIMPLEMENTED), errors.ProtocolError),
        (asyncio.TimeoutError(), errors.DeadlineExceededError),
        (TimeoutError(), errors.DeadlineExceededError),
        (ConnectionResetError(104, "Connection reset by peer"), errors.ConnectionLostError),
        (RuntimeError("odd"), errors.ConnectionLostError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v.__name__,
)
def test_foreign_error_picks_the_most_specific_class(exc: BaseException, expected: type) -> None:
    """Each foreign failure becomes its remote-gym class, with the context first in the message."""
    error = foreign_error(exc, "request to h:1", timeout=2.0)
    assert type(error) is expected
    assert str(error).startswith("request to h:1")


def test_our_errors_pass_unchanged_and_os_errors_can_be_connect_errors() -> None:
    """A remote-gym error is returned as it is; a socket error before any connection is a ConnectError."""
    ours = errors.InvalidCallError("no")
    assert foreign_error(ours, "x") is ours
    error = foreign_error(
        OSError(-2, "Name or service not known"), "cannot resolve h", os_error=errors.ConnectError
    )
    assert type(error) is errors.ConnectError
    assert str(error) == "cannot resolve h: Name or service not known"


def test_map_errors_raises_ours_from_the_foreign_one() -> None:
    """The block's foreign error is raised as ours, chained; ours and other exceptions pass through."""
    deadline = pytest.raises(errors.DeadlineExceededError, match=r"took longer than 0\.5 s")
    with deadline as info, map_errors("request to h:1", timeout=0.5):
        raise asyncio.TimeoutError
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)
    with pytest.raises(errors.EnvClosedError), map_errors("x"):
        raise errors.EnvClosedError("closed")
    with pytest.raises(KeyError), map_errors("x"):
        raise KeyError("not a failure of the connection")


def test_bytes_that_do_not_parse() -> None:
    """A reply that is no Response is the server's protocol error; a request that is no Request the client's."""
    with pytest.raises(errors.ProtocolError, match="the server at h:1 sent a malformed reply"):
        parse_response(NOT_A_MESSAGE, context="the server at h:1")
    with pytest.raises(errors.InvalidCallError, match="malformed first request"):
        parse_request(NOT_A_MESSAGE, what="first request")


@pytest.mark.parametrize(
    ("exitcode", "how"),
    [
        (-signal.SIGKILL, "was killed by signal 9 (SIGKILL)"),
        (-signal.SIGALRM, "a call took longer than the server's max_call_s"),
        (3, "exited with code 3"),
        (None, "stopped answering"),
    ],
)
def test_a_dead_process_says_how_it_ended(exitcode: int | None, how: str) -> None:
    """A broken pipe to a worker becomes WorkerCrashedError naming how the process ended."""
    error = process_died_error("the worker process (pid 7)", exitcode)
    assert str(error).startswith("the worker process (pid 7) ")
    assert how in str(error)
    assert error.exitcode == exitcode
