"""Apply each numbered request exactly once; a request re-sent after a resume gets its recorded reply."""

from __future__ import annotations

import logging
from collections.abc import Callable

from remote_gym.codec.errors import error_to_proto
from remote_gym.errors import InvalidCallError, ServerBusyError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.foreign import parse_request

logger = logging.getLogger(__name__)


def error_bytes(exc: BaseException) -> bytes:
    """A serialized ``Response`` carrying ``exc`` as an in-stream error."""
    return pb.Response(error=error_to_proto(exc)).SerializeToString()


class Sequencer:
    """Wraps a session's request handler with the session's request numbering.

    Requests carry ``seq`` 1, 2, ... . The reply to the last applied request is kept, so when a
    connection drops after the env applied a step but before the client got the reply, the client
    re-sends the same ``seq`` and gets the same reply: the step is never applied twice, and a step
    that never arrived is applied once. Requests without a number (``seq`` 0) are simply applied.
    """

    def __init__(self, handle: Callable[[pb.Request], pb.Response]) -> None:
        self._handle = handle
        self._last_seq = 0
        self._last_reply = b""
        self.replays = 0
        """Requests answered from the record instead of being applied again."""

    def answer(self, data: bytes) -> bytes:
        """Parse, apply (or replay) one request and return the serialized reply; never raises."""
        try:
            request = parse_request(data)
        except InvalidCallError as exc:  # malformed bytes from the wire: answer, never die
            return error_bytes(exc)
        seq = request.seq
        if seq:
            if seq == self._last_seq:
                self.replays += 1
                logger.debug("request %d was applied already: replaying its reply", seq)
                return self._last_reply
            if seq != self._last_seq + 1:
                return error_bytes(
                    InvalidCallError(f"request number {seq} is out of order; expected {self._last_seq + 1}")
                )
        reply = self._handle(request).SerializeToString()
        if seq:
            self._last_seq, self._last_reply = seq, reply
        return reply


def bounded_reply(reply: bytes, limit: int) -> bytes:
    """``reply``, or the error that replaces it when it is over ``limit`` bytes (every path's one rule)."""
    if len(reply) <= limit:
        return reply
    return error_bytes(
        ServerBusyError(f"the reply has {len(reply)} bytes, over the server's limit of {limit} bytes")
    )
