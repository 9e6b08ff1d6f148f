"""Errors <-> in-stream ``Error`` messages: how a server reports a failed request inside the session stream.

No grpc here: the numbers of gRPC's status codes are fixed by its specification, so the processes
that run environments (which never import grpc) report errors in exactly the form the gRPC server
would.
"""

from __future__ import annotations

import traceback
from typing import Any

from remote_gym import errors
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

STATUS_CODES = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
"""gRPC status code name -> number (tests/unit/test_errors.py checks it against grpc.StatusCode)."""

_CODE_NAMES = {value: name for name, value in STATUS_CODES.items()}
BY_REASON = {cls.reason: cls for cls in errors.SERVER_ERRORS}
"""Machine-readable reason -> the ServerError class it stands for (the classes declare both)."""


def error_to_proto(exc: BaseException) -> pb.Error:
    """Describe an exception as an in-stream ``Error`` message.

    A :class:`~remote_gym.errors.ServerError` keeps its class; any other exception is reported as
    the environment's own failure (``RemoteEnvError``) with its type name and traceback text.
    """
    if isinstance(exc, errors.ServerError):
        cls = _declared(type(exc))
        msg = pb.Error(code=STATUS_CODES[cls.code], reason=cls.reason, message=exc.message)
        if isinstance(exc, errors.RemoteEnvError):
            msg.remote_type = exc.remote_type
            msg.remote_traceback = exc.remote_traceback
            if exc.sub_env_index is not None:
                msg.sub_env_index = exc.sub_env_index
        if isinstance(exc, errors.WorkerCrashedError) and exc.exitcode is not None:
            msg.exitcode = exc.exitcode
        return msg
    exc_type = type(exc)
    return pb.Error(
        code=STATUS_CODES["INTERNAL"],
        reason="ENV_ERROR",
        message=f"{exc_type.__name__}: {exc}",
        remote_type=f"{exc_type.__module__}.{exc_type.__qualname__}",
        remote_traceback="".join(traceback.format_exception(exc)),
    )


def error_from_proto(msg: pb.Error, *, context: str = "") -> errors.ServerError:
    """Build the exception an in-stream ``Error`` message describes."""
    cls = BY_REASON.get(msg.reason, errors.ServerError)
    text = f"{context}: {msg.message}" if context else msg.message
    attrs: dict[str, Any] = {}
    if cls is errors.ServerError:
        attrs.update(code=_CODE_NAMES.get(msg.code, str(msg.code)), reason=msg.reason or "UNKNOWN")
    if cls is errors.RemoteEnvError:
        attrs.update(remote_type=msg.remote_type, remote_traceback=msg.remote_traceback)
        if msg.HasField("sub_env_index"):
            attrs["sub_env_index"] = msg.sub_env_index
        if msg.remote_traceback:
            text = f"{text}\n\nRemote traceback:\n{msg.remote_traceback}"
    if cls is errors.WorkerCrashedError:
        attrs["exitcode"] = msg.exitcode
    error: errors.ServerError = cls(text, **attrs)
    return error


def _declared(cls: type[errors.ServerError]) -> type[errors.ServerError]:
    """The nearest class in ``errors.SERVER_ERRORS`` (a user's subclass reports as its base)."""
    for klass in cls.__mro__:
        if klass in errors.SERVER_ERRORS:
            return klass
    return errors.ServerError
