"""A plain worker's loop answers status control frames between requests."""

from __future__ import annotations

import socket
import threading

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.frame_io import FrameReader, write_frame
from remote_gym.server.handlers.worker_loop import serve_requests
from remote_gym.wire.control import CLOSE_LANE_REQUEST, STATUS_REQUEST, WorkerStatus
from remote_gym.wire.frames import CONTROL_NUMBER


class _Handler:
    """Counts the requests it answers and reports ``restarts`` restarts."""

    def __init__(self) -> None:
        self.answered = 0
        self.restarts = 0

    def describe(self) -> pb.Response:
        return pb.Response(make=pb.MakeResponse(env_name="test"))

    def handle(self, request: pb.Request) -> pb.Response:
        self.answered += 1
        self.restarts += 1
        return pb.Response(close=pb.CloseResponse())

    def env_restarts(self) -> int:
        return self.restarts

    deferred = False

    def run_deferred(self) -> None:
        raise AssertionError("nothing was deferred")


def test_serve_requests_answers_status_between_requests_and_ignores_other_ops() -> None:
    """Status frames get the handler's restarts (number 0); unknown ops get nothing; requests go on."""
    ours, theirs = socket.socketpair()
    handler = _Handler()
    thread = threading.Thread(
        target=serve_requests, args=(theirs, FrameReader(theirs.makefile("rb")), handler)
    )
    thread.start()
    reader = FrameReader(ours.makefile("rb"))
    try:
        assert reader.read() == (0, handler.describe().SerializeToString())
        write_frame(ours, STATUS_REQUEST, CONTROL_NUMBER)
        assert reader.read() == (CONTROL_NUMBER, b'{"env_restarts": 0}')
        write_frame(ours, CLOSE_LANE_REQUEST, CONTROL_NUMBER)  # a lane op: no lane here, no answer
        write_frame(ours, pb.Request(seq=1, close=pb.CloseRequest()).SerializeToString(), 7)
        number, _ = reader.read()
        assert number == 7
        write_frame(ours, STATUS_REQUEST, CONTROL_NUMBER)
        assert WorkerStatus.from_bytes(reader.read()[1]) == WorkerStatus(env_restarts=1)
        assert handler.answered == 1
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
        thread.join(5)
        theirs.close()
    assert not thread.is_alive()
