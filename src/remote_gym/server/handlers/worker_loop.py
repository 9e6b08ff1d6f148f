"""A worker's serving loop: describe the session's env, then answer numbered requests until hung up.

The frames and control messages it speaks are the wire layer's (:mod:`remote_gym.wire`); the
server numbers each request it writes to a worker and the worker answers with the same number.
After the first frame each way (the spec, and the env's description), frames numbered 0 are
control messages: a status request is answered with a :class:`~remote_gym.wire.control.WorkerStatus`
once the request in hand (if any) is answered.
"""

from __future__ import annotations

import socket
from typing import Protocol

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.frame_io import FrameReader, write_frame
from remote_gym.server.handlers.rules import Handles, SessionAnswer, SessionRules
from remote_gym.server.handlers.sequencer import error_bytes
from remote_gym.wire.control import STATUS, WorkerStatus, control_op
from remote_gym.wire.frames import CONTROL_NUMBER


class Handler(Handles, Protocol):
    """What :func:`serve_requests` serves: an env or vector handler."""

    def describe(self) -> pb.Response:
        """The MakeResponse."""
        ...

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised, since the handler was created."""
        ...


def write_description(sock: socket.socket, handler: Handler, lane_path: str = "") -> bool:
    """Write the handler's description as frame 0 (an ``Error`` response if it fails); whether it worked.

    ``lane_path``: a lane address only the worker knows (a TCP port it picked), for the server to offer.
    """
    try:
        described = handler.describe()
        if lane_path:
            described.make.lane_path = lane_path
    except BaseException as exc:
        write_frame(sock, error_bytes(exc))
        return False
    write_frame(sock, described.SerializeToString())
    return True


def serve_requests(
    sock: socket.socket, reader: FrameReader, handler: Handler, rules: SessionRules | None = None
) -> int:
    """Write the handler's description (frame 0), then answer framed requests until the peer hangs up.

    Each request is answered under the session's ``rules`` (:class:`~.rules.SessionAnswer`); its
    reply carries the request's number. A status request (a control frame) is answered with the handler's
    :class:`WorkerStatus`.

    Returns:
        The process exit code: 0 after a clean end, 1 if the environment could not be described.
    """
    try:
        if not write_description(sock, handler):
            return 1
        answer = SessionAnswer(handler, rules or SessionRules())
        while True:
            frame = reader.read()
            if frame is None:
                return 0
            number, data = frame
            if number == CONTROL_NUMBER:
                if control_op(data) == STATUS:
                    write_frame(sock, WorkerStatus(handler.env_restarts()).to_bytes(), CONTROL_NUMBER)
                continue
            write_frame(sock, answer(data), number)  # the reply carries its request's number
            answer.after_reply()
    except (BrokenPipeError, ConnectionResetError):
        return 0
