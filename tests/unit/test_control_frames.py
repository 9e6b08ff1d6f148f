"""Control frames between the server and a worker: status messages and their parsing."""

from __future__ import annotations

import socket
import threading

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.frames import (
    CLOSE_LANE_REQUEST,
    CONTROL_NUMBER,
    STATUS_REQUEST,
    WorkerStatus,
    control_op,
    read_frame,
    serve_requests,
    write_frame,
)


def test_status_round_trips_and_leaves_out_what_a_worker_does_not_know() -> None:
    """A lane worker's status carries all three figures; a plain worker's only its restarts."""
    full = WorkerStatus(env_restarts=3, quiet_s=1.5, lane_requests=[0, 4, 9])
    assert WorkerStatus.from_bytes(full.to_bytes()) == full
    plain = WorkerStatus(env_restarts=2)
    assert plain.to_bytes() == b'{"env_restarts": 2}'
    assert WorkerStatus.from_bytes(plain.to_bytes()) == plain


def test_control_op_reads_the_op_or_nothing() -> None:
    assert control_op(STATUS_REQUEST) == "status"
    assert control_op(CLOSE_LANE_REQUEST) == "close"
    for junk in (b"not json", b"[1, 2]", b'{"op": 5}', b"{}"):
        assert control_op(junk) is None


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


def test_serve_requests_answers_status_between_requests_and_ignores_other_ops() -> None:
    """Status frames get the handler's restarts (number 0); unknown ops get nothing; requests go on."""
    ours, theirs = socket.socketpair()
    handler = _Handler()
    thread = threading.Thread(target=serve_requests, args=(theirs, theirs.makefile("rb"), handler))
    thread.start()
    reader = ours.makefile("rb")
    try:
        assert read_frame(reader) == (0, handler.describe().SerializeToString())
        write_frame(ours, STATUS_REQUEST, CONTROL_NUMBER)
        assert read_frame(reader) == (CONTROL_NUMBER, b'{"env_restarts": 0}')
        write_frame(ours, CLOSE_LANE_REQUEST, CONTROL_NUMBER)  # a lane op: no lane here, no answer
        write_frame(ours, pb.Request(seq=1, close=pb.CloseRequest()).SerializeToString(), 7)
        number, _ = read_frame(reader)
        assert number == 7
        write_frame(ours, STATUS_REQUEST, CONTROL_NUMBER)
        assert WorkerStatus.from_bytes(read_frame(reader)[1]) == WorkerStatus(env_restarts=1)
        assert handler.answered == 1
    finally:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()
        thread.join(5)
        theirs.close()
    assert not thread.is_alive()
