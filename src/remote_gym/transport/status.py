"""Failed gRPC calls -> remote-gym errors (the status code and the reason in trailing metadata)."""

from __future__ import annotations

import grpc

from remote_gym import errors

_BY_REASON = {cls.reason: cls for cls in errors.SERVER_ERRORS}

REASON_METADATA_KEY = "remote-gym-reason"
"""Trailing-metadata key carrying the reason when a whole RPC is aborted."""


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
        return _BY_REASON[reason](prefix + details)
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
