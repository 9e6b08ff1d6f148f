"""One table between remote-gym errors and (gRPC status code, reason), used by server and client."""

from __future__ import annotations

import traceback
from typing import Any

import grpc

from remote_gym import errors
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

# The code and reason of each class are declared once, on the class in errors.py. The reason picks the
# class on the client; the code is what a generic gRPC tool sees.
_SERVER_ERRORS: tuple[type[errors.ServerError], ...] = (
    errors.AuthenticationError,
    errors.PermissionDeniedError,
    errors.EnvNotFoundError,
    errors.SessionExpiredError,
    errors.ServerBusyError,
    errors.InvalidCallError,
    errors.InvalidActionError,
    errors.RemoteEnvError,
    errors.WorkerCrashedError,
    errors.ServerShutdownError,
)
_TABLE = tuple((cls, grpc.StatusCode[cls.code], cls.reason) for cls in _SERVER_ERRORS)
_BY_REASON = {reason: (cls, code) for cls, code, reason in _TABLE}
_BY_CLASS = {cls: (code, reason) for cls, code, reason in _TABLE}
_CODE_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}

REASON_METADATA_KEY = "remote-gym-reason"
"""Trailing-metadata key carrying the reason when a whole RPC is aborted."""


def error_to_proto(exc: BaseException) -> pb.Error:
    """Describe an exception as an in-stream ``Error`` message.

    A :class:`~remote_gym.errors.ServerError` keeps its class; any other exception is reported as
    the environment's own failure (``RemoteEnvError``) with its type name and traceback text.
    """
    if isinstance(exc, errors.ServerError):
        code, reason = _code_and_reason(type(exc))
        msg = pb.Error(code=code.value[0], reason=reason, message=exc.message)
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
        code=grpc.StatusCode.INTERNAL.value[0],
        reason="ENV_ERROR",
        message=f"{exc_type.__name__}: {exc}",
        remote_type=f"{exc_type.__module__}.{exc_type.__qualname__}",
        remote_traceback="".join(traceback.format_exception(exc)),
    )


def error_from_proto(msg: pb.Error, *, context: str = "") -> errors.ServerError:
    """Build the exception an in-stream ``Error`` message describes."""
    cls, code = _BY_REASON.get(msg.reason, (errors.ServerError, _CODE_BY_VALUE.get(msg.code)))
    text = f"{context}: {msg.message}" if context else msg.message
    attrs: dict[str, Any] = {}
    if cls is errors.ServerError:
        attrs.update(code=code.name if code is not None else str(msg.code), reason=msg.reason or "UNKNOWN")
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


def _code_and_reason(cls: type[errors.ServerError]) -> tuple[grpc.StatusCode, str]:
    for klass in cls.__mro__:
        if klass in _BY_CLASS:
            return _BY_CLASS[klass]
    return grpc.StatusCode.UNKNOWN, "UNKNOWN"


def rpc_error_to_exception(exc: grpc.RpcError, *, context: str = "") -> errors.RemoteGymError:
    """Translate a failed gRPC call into the most specific remote-gym exception."""
    # Sync calls raise grpc.Call subclasses, aio calls AioRpcError: both have these methods.
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else None) or str(exc)
    reason = ""
    for key, value in (exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None) or ():
        if key == REASON_METADATA_KEY:
            reason = str(value)
    prefix = f"{context}: " if context else ""
    if reason in _BY_REASON:
        cls, _ = _BY_REASON[reason]
        return cls(prefix + details)
    text = prefix + details
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.DeadlineExceededError(text)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.AuthenticationError(text)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return errors.PermissionDeniedError(text)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.ServerBusyError(text)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return errors.ProtocolError(text + " (is this a remote-gym server?)")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, None):
        return errors.ConnectionLostError(text)
    return errors.ServerError(text, code=code.name, reason="UNKNOWN")
