"""The client's one boundary for foreign errors: failed gRPC calls, timeouts and sockets -> remote-gym errors.

Every place on the training side that meets a ``grpc.RpcError``, an expired wait, a socket error or
bytes that do not parse translates it here (as httpx maps its transport's exceptions in one place), so that the same failure
reads the same wherever it happens, and no foreign exception escapes the client.
``tests/unit/test_error_boundaries.py`` keeps translations from growing anywhere else.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import grpc

from remote_gym import errors
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.tls import TLSConfig

_BY_REASON = {cls.reason: cls for cls in errors.SERVER_ERRORS}

REASON_METADATA_KEY = "remote-gym-reason"
"""Trailing-metadata key carrying the reason when a whole RPC is aborted."""

# A call the server ended on its own with these codes closed the session without a deliberate status.
_ENDED_WITHOUT_STATUS = frozenset({grpc.StatusCode.OK, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED})


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


def parse_response(data: bytes, *, context: str) -> pb.Response:
    """Parse a serialized ``Response`` the server sent.

    Raises:
        ProtocolError: The bytes are not a ``Response`` (``context`` names the sender).
    """
    try:
        return pb.Response.FromString(data)
    except Exception as exc:  # protobuf's DecodeError, or anything its parser raises on bad bytes
        raise errors.ProtocolError(f"{context} sent a malformed reply: {exc}") from exc


def foreign_error(
    exc: BaseException,
    context: str,
    *,
    timeout: float | None = None,
    os_error: type[errors.TransportError] = errors.ConnectionLostError,
) -> errors.RemoteGymError:
    """The remote-gym error for any failure of a request, connection or look-up.

    Args:
        exc: What was raised. Our own errors are returned unchanged.
        context: What was being done, to whom (``"request to host:port"``); starts the message.
        timeout: The bound that expired, for the message of a timeout.
        os_error: The class for a socket error (``ConnectError`` when nothing was connected yet).

    Returns:
        A timeout as :class:`~remote_gym.errors.DeadlineExceededError`, a failed gRPC call as
        :func:`rpc_error_to_exception` reads it, a socket error as ``os_error``, anything else as
        :class:`~remote_gym.errors.ConnectionLostError`.
    """
    if isinstance(exc, errors.RemoteGymError):
        return exc
    if isinstance(exc, grpc.RpcError):
        return rpc_error_to_exception(exc, context=context)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return errors.DeadlineExceededError(f"{context} took longer than {timeout} s")
    if isinstance(exc, OSError):
        return os_error(f"{context}: {exc.strerror or exc}")
    return errors.ConnectionLostError(f"{context}: {exc!r}")


class map_errors:
    """Translate the foreign errors a block raises with :func:`foreign_error`; ours pass unchanged.

    A class rather than a ``contextlib.contextmanager`` generator: it wraps every step, and costs
    a fraction of a microsecond this way.

    Example:
        >>> with map_errors("request to host:5000", timeout=5.0):  # doctest: +SKIP
        ...     reply = connection.run(coro, 5.0)
    """

    __slots__ = ("_context", "_os_error", "_timeout")

    def __init__(
        self,
        context: str,
        *,
        timeout: float | None = None,
        os_error: type[errors.TransportError] = errors.ConnectionLostError,
    ) -> None:
        self._context = context
        self._timeout = timeout
        self._os_error = os_error

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, errors.RemoteGymError):
            return
        if isinstance(exc, (grpc.RpcError, TimeoutError, asyncio.TimeoutError, OSError)):
            raise foreign_error(exc, self._context, timeout=self._timeout, os_error=self._os_error) from exc


async def ended_call_error(call: Any, context: str) -> errors.RemoteGymError:
    """The error for a session stream the server ended (an aio stream-stream call that is done).

    Ended without a deliberate status (OK; INTERNAL: our write met a call the server had ended;
    CANCELLED), the session is lost; with one (shutdown, idle expiry, ...), it is that status's error.
    """
    code = await call.code()
    if code in _ENDED_WITHOUT_STATUS:
        return errors.ConnectionLostError(f"{context} ended the session (stopped or restarted?)")
    return await status_error(call, code, context=f"{context} ended the session")


async def status_error(call: Any, code: grpc.StatusCode, *, context: str) -> errors.RemoteGymError:
    """The error for the final status ``code`` of a finished aio call, read with its metadata and details."""
    status = grpc.aio.AioRpcError(
        code, await call.initial_metadata(), await call.trailing_metadata(), await call.details()
    )
    return rpc_error_to_exception(status, context=context)


def connect_error(
    exc: grpc.RpcError, *, target: str, host: str, port: int, tls: TLSConfig | None
) -> errors.RemoteGymError:
    """The error for a connection that never answered: which side is wrong, found by probing the server.

    gRPC's details rarely say whether the address, the TLS set-up or a certificate is at fault;
    short probes of the server do. They block the caller's loop, on this failure path only.
    """
    # Imported here: the server imports this module too, and needs neither the probes nor cryptography.
    from remote_gym.transport.diagnose import CLIENT_CERT_FAILURES, diagnose_connect_failure

    mapped = rpc_error_to_exception(exc, context=f"cannot connect to {target}")
    if not isinstance(mapped, (errors.ConnectionLostError, errors.DeadlineExceededError)):
        return mapped
    details = (exc.details() if hasattr(exc, "details") else None) or ""
    diagnosis = diagnose_connect_failure(details, tls=tls, host=host, port=port)
    mode = "mutual TLS" if tls and tls.cert else "TLS" if tls else "no TLS"
    cls = errors.AuthenticationError if diagnosis.failure in CLIENT_CERT_FAILURES else errors.ConnectError
    return cls(f"cannot connect to {target} ({mode}): {diagnosis.message}")
