"""Control messages: frames numbered 0, after the first frame each way, outside a session's requests.

The server asks a worker ``{"op": "status"}``; the worker answers (in a frame numbered 0, once the
request in hand, if any, is answered) with its :class:`WorkerStatus`. A worker with a same-host lane
also takes ``{"op": "close"}``, which closes its lane (the session is ending); one whose lane goes
to a hub, ``{"op": "dial", "dial": {...}}``, which opens it again (a resumed session). Messages are JSON
objects; an unknown ``op`` is ignored, so a newer peer may add one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

STATUS = "status"
CLOSE_LANE = "close"
DIAL_LANE = "dial"

STATUS_REQUEST = b'{"op": "status"}'
"""The control message asking a worker for its :class:`WorkerStatus`."""
CLOSE_LANE_REQUEST = b'{"op": "close"}'
"""The control message asking a lane worker to close its lane."""


def dial_lane_request(dial: dict[str, Any]) -> bytes:
    """The control message asking a worker whose lane goes to a hub to open it anew (``LaneSpec.dial``)."""
    return json.dumps({"op": DIAL_LANE, "dial": dial}).encode()


def control_op(data: bytes) -> str | None:
    """The ``op`` of a control message (None if it has none or is not JSON)."""
    try:
        op = json.loads(data).get("op")
    except (ValueError, AttributeError):
        return None
    return op if isinstance(op, str) else None


@dataclass
class WorkerStatus:
    """What a worker reports of itself when asked (figures the gRPC process cannot count on its own)."""

    env_restarts: int = 0
    """Sub-envs recreated after they raised (``on_env_failure="restart"``) since the session opened."""
    quiet_s: float | None = None
    """Seconds since its last request on any path (lane workers only: the server sees no other's)."""
    lane_requests: list[int] | None = None
    """Requests answered on its same-host lane, by kind (lane workers only)."""
    lane_meter: dict[str, Any] | None = None
    """Its lane's request meter in plain form: requests, bytes and latency histograms (lane workers
    only; ``remote_gym.server.handlers.meter.RequestMeter``)."""

    def to_bytes(self) -> bytes:
        """The control message carrying it."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> WorkerStatus:
        """Inverse of :meth:`to_bytes`."""
        raw = json.loads(data)
        lane = raw.get("lane_requests")
        quiet = raw.get("quiet_s")
        meter = raw.get("lane_meter")
        return cls(
            env_restarts=int(raw.get("env_restarts", 0)),
            quiet_s=None if quiet is None else float(quiet),
            lane_requests=None if lane is None else [int(n) for n in lane],
            lane_meter=meter if isinstance(meter, dict) else None,
        )
