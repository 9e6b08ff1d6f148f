"""Control messages on byte strings: the status report and the ops."""

from __future__ import annotations

from remote_gym.wire.control import CLOSE_LANE_REQUEST, STATUS_REQUEST, WorkerStatus, control_op


def test_status_round_trips_and_leaves_out_what_a_worker_does_not_know() -> None:
    """A lane worker's status carries all three figures; a plain worker's only its restarts."""
    full = WorkerStatus(env_restarts=3, quiet_s=1.5, lane_requests=[0, 4, 9])
    assert WorkerStatus.from_bytes(full.to_bytes()) == full
    plain = WorkerStatus(env_restarts=2)
    assert plain.to_bytes() == b'{"env_restarts": 2}'
    assert WorkerStatus.from_bytes(plain.to_bytes()) == plain


def test_control_op_reads_the_op_or_nothing() -> None:
    """The op of a control message, or None for anything else."""
    assert control_op(STATUS_REQUEST) == "status"
    assert control_op(CLOSE_LANE_REQUEST) == "close"
    for junk in (b"not json", b"[1, 2]", b'{"op": 5}', b"{}"):
        assert control_op(junk) is None
