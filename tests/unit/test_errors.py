"""The exception tree: builtin mix-ins, pickling, and one status table used in both directions."""

from __future__ import annotations

import pickle

import grpc
import pytest

from remote_gym import errors
from remote_gym.codec.errors import STATUS_CODES, error_from_proto, error_to_proto
from remote_gym.errors import SERVER_ERRORS as _SERVER_ERRORS
from remote_gym.transport.status import rpc_error_to_exception

SERVER_ERRORS = [
    cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.ServerError)
]


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.ConfigError, ValueError),
        (errors.DependencyNotInstalledError, ImportError),
        (errors.UnsupportedSpaceError, TypeError),
        (errors.DecodeError, ValueError),
        (errors.DeadlineExceededError, TimeoutError),
        (errors.InvalidActionError, ValueError),
    ],
)
def test_builtin_mixins(cls: type[Exception], builtin: type[Exception]) -> None:
    """Errors a caller may catch as a builtin are also that builtin."""
    assert issubclass(cls, builtin)
    assert issubclass(cls, errors.RemoteGymError)


def test_pickle_round_trip_keeps_attributes() -> None:
    """Exceptions survive pickling with their message and attributes (for multiprocessing users)."""
    exc = errors.RemoteEnvError("boom", remote_type="builtins.ValueError", remote_traceback="tb")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is errors.RemoteEnvError
    assert str(copy) == "boom"
    assert copy.remote_type == "builtins.ValueError"
    assert copy.remote_traceback == "tb"


def test_status_table_covers_every_server_error() -> None:
    """Every ServerError subclass has a row in the status table with a real gRPC code."""
    assert set(SERVER_ERRORS) - {errors.ServerError} == set(_SERVER_ERRORS)
    for cls in _SERVER_ERRORS:
        assert cls.code in grpc.StatusCode.__members__
        assert cls.reason


@pytest.mark.parametrize("cls", _SERVER_ERRORS, ids=lambda c: c.__name__)
def test_in_stream_error_round_trip(cls: type[errors.ServerError]) -> None:
    """An error sent in-stream comes back as the same class with its message."""
    decoded = error_from_proto(error_to_proto(cls("what happened")))
    assert type(decoded) is cls
    assert "what happened" in str(decoded)


def test_foreign_exception_becomes_remote_env_error() -> None:
    """An env's own exception travels as type name and traceback text, never as the exception object."""
    try:
        raise KeyError("missing")
    except KeyError as exc:
        msg = error_to_proto(exc)
    decoded = error_from_proto(msg)
    assert type(decoded) is errors.RemoteEnvError
    assert decoded.remote_type == "builtins.KeyError"
    assert "raise KeyError" in decoded.remote_traceback


def test_worker_crash_keeps_exit_code() -> None:
    """WorkerCrashedError carries the worker's exit code across the wire."""
    decoded = error_from_proto(error_to_proto(errors.WorkerCrashedError("died", exitcode=-9)))
    assert isinstance(decoded, errors.WorkerCrashedError)
    assert decoded.exitcode == -9


@pytest.mark.parametrize("index", [0, 5])
def test_a_sub_env_failure_carries_its_index_as_a_field(index: int) -> None:
    """A vector sub-env's failure names its index in a field of its own, 0 included; others have none."""
    sent = errors.RemoteEnvError(
        "raised ValueError: boom", remote_type="builtins.ValueError", sub_env_index=index
    )
    msg = error_to_proto(sent)
    assert msg.HasField("sub_env_index")
    decoded = error_from_proto(msg)
    assert isinstance(decoded, errors.RemoteEnvError)
    assert decoded.sub_env_index == index
    assert str(decoded).startswith("raised ValueError: boom")
    plain = error_from_proto(error_to_proto(errors.RemoteEnvError("raised ValueError: boom")))
    assert isinstance(plain, errors.RemoteEnvError)
    assert plain.sub_env_index is None


class _FakeRpcError(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """A grpc.RpcError carrying a status code, as grpc raises them (for the mapping table only)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: object) -> bool:
        return False


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, errors.DeadlineExceededError),
        (grpc.StatusCode.UNAVAILABLE, errors.ConnectionLostError),
        (grpc.StatusCode.UNAUTHENTICATED, errors.AuthenticationError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, errors.ServerBusyError),
        (grpc.StatusCode.UNIMPLEMENTED, errors.ProtocolError),
    ],
)
def test_rpc_status_mapping(code: grpc.StatusCode, expected: type[Exception]) -> None:
    """A failed gRPC call maps to the most specific remote-gym exception."""
    assert isinstance(rpc_error_to_exception(_FakeRpcError(code, "x")), expected)


def test_status_code_numbers_are_grpc_s() -> None:
    """The codec's table of status code numbers (used where grpc is never imported) equals gRPC's own."""
    assert {code.name: code.value[0] for code in grpc.StatusCode} == STATUS_CODES
