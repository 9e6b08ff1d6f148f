"""Reading a session's replies: the reply itself, the server's error, and whether the session survives it."""

from __future__ import annotations

from remote_gym.codec.errors import error_from_proto
from remote_gym.errors import ProtocolError, RemoteGymError, ServerError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.status import parse_response

SESSION_ENDING_REASONS = frozenset({"WORKER_CRASHED", "SHUTDOWN", "DRAINING"})
"""Error reasons after which the server has ended the session."""


def read_reply(reply: bytes, expected: str | None, target: str) -> pb.Response:
    """Decode the reply to a request of kind ``expected`` from ``target``.

    Raises:
        ServerError: The server answered with an error.
        ProtocolError: The bytes are no reply, or one of another kind (the stream is out of step).
    """
    response = parse_response(reply, context=target)
    kind = response.WhichOneof("kind")
    if kind == "error":
        raise error_from_proto(response.error)
    if kind != expected:
        raise ProtocolError(f"{target} answered a {expected} request with a {kind} reply")
    return response


def ends_session(error: RemoteGymError) -> bool:
    """Whether a session can take no request after ``error`` (out of step, or ended by its server)."""
    if isinstance(error, ServerError):
        return error.reason in SESSION_ENDING_REASONS
    return isinstance(error, ProtocolError)
