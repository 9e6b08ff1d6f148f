"""Make a session again when it was lost before anything of it was observed (no reset answered yet).

A server holds a session for resumption only once it answered a reset of it (a scanner that opens
sessions and vanishes holds nothing). A client cut before its first reset reply therefore finds its
session gone; since the trainer has observed nothing of it, the client makes it again on a new
connection, sends it the requests the lost one had received (attribute reads, calls, ``set_attr``), in
order, and answers the request in flight from the new session: the trainer never notices.
"""

from __future__ import annotations

from collections.abc import Callable

from remote_gym.client.stream import SessionStream
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

MAX_REPLAYED = 256
"""Requests before the first reset kept for a replay; a session sent more is not made again."""


class Remaker:
    """Keeps what a session was sent until a reset of it is answered, and makes it again from that."""

    def __init__(self) -> None:
        self._make = b""
        self._sent: list[pb.Request] = []
        self._possible = False

    def sent(self, request: pb.Request, payload: bytes) -> None:
        """Note a request about to be sent, and its bytes (the make request starts the record)."""
        if request.WhichOneof("kind") == "make":
            if not request.make.resume_session_id:
                self._make, self._sent, self._possible = payload, [], True
        elif self._possible:
            kept = pb.Request()
            kept.CopyFrom(request)
            self._sent.append(kept)
            if len(self._sent) > MAX_REPLAYED:
                self.observed()

    def observed(self) -> None:
        """A reset was answered (or too much happened): the session can no longer be made again unnoticed."""
        self._possible, self._make, self._sent = False, b"", []

    @property
    def possible(self) -> bool:
        """True while the session can be made again unnoticed (made, no reset answered, a request in flight)."""
        return self._possible and bool(self._sent)

    async def remake(
        self,
        stream: SessionStream,
        accept_make: Callable[[bytes], object],
        renumber: Callable[[pb.Request], bytes],
        call_timeout: float | None,
    ) -> bytes:
        """Make the session again on a new connection of ``stream``, replay what it was sent, and return the
        reply to the last request sent (the one in flight when the connection dropped).

        Args:
            stream: The session's stream (opened anew here).
            accept_make: Takes the new make reply (notes the new session id, token and lane; raises its error).
            renumber: Gives a request its number in the new session and serializes it.
            call_timeout: Seconds each request may take.

        Raises:
            ServerError: The server refused to make it again (busy, shutting down, ...).
            ConnectionLostError, DeadlineExceededError: The new connection failed too.
        """
        await stream.drop()
        await stream.open()
        accept_make(await stream.bounded_roundtrip(self._make, call_timeout))
        reply = b""
        for request in self._sent:
            reply = await stream.bounded_roundtrip(renumber(request), call_timeout)
        return reply
