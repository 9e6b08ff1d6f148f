"""Time and count a session's requests, whatever path they take: counts, bytes, latency histograms.

One :class:`RequestMeter` per session and path: the gRPC process records each request it forwards,
a worker records each request its same-host lane answers (and reports its meter in its status, see
:class:`~remote_gym.wire.control.WorkerStatus`). Both use the same fixed bucket bounds, so
meters merge by adding counts, and the server derives every quantile it shows (the session table's
p50/p99, the charts, Prometheus' step-time histogram) from the same histograms.

The buckets are :mod:`remote_gym.monitoring.buckets`' (a quarter of an octave wide, ~1 µs to 64 s).
Recording a request costs a few list updates and one ``log2``: no allocation, no lock.
"""

from __future__ import annotations

import math
from typing import Any

from remote_gym.monitoring.buckets import (
    BOUNDS_S,
    BUCKETS,
    BUCKETS_PER_OCTAVE,
    LOWEST_EXPONENT,
    add_histograms,
    bucket_of,
    quantile,
    subtract_histograms,
)

__all__ = [
    "BOUNDS_S",
    "BUCKETS",
    "BUCKETS_PER_OCTAVE",
    "PATHS",
    "RequestMeter",
    "add_histograms",
    "bucket_of",
    "quantile",
    "subtract_histograms",
]

PATHS = ("grpc", "lane", "network-lane")
"""The paths a request can take to a session's env today (the hub adds its own)."""

_log2 = math.log2
_ceil = math.ceil
_FIRST_BOUND_S = BOUNDS_S[0]


class RequestMeter:
    """Requests by kind, bytes each way, and a latency histogram per kind (cumulative since creation)."""

    __slots__ = ("bytes_in", "bytes_out", "histograms", "requests", "seconds")

    def __init__(self, kinds: int) -> None:
        self.requests = [0] * kinds
        """Requests answered, by kind (the field number of the request's kind)."""
        self.bytes_in = 0
        """Bytes of requests received."""
        self.bytes_out = 0
        """Bytes of replies sent."""
        self.seconds = [0.0] * kinds
        """Total time spent answering, by kind."""
        self.histograms: dict[int, list[int]] = {}
        """Latency histogram (counts per bucket of :data:`BOUNDS_S`) by kind, for kinds seen only."""

    def record(self, kind: int, size_in: int, size_out: int, seconds: float) -> None:
        """Count one request of ``kind`` answered in ``seconds``, ``size_in`` bytes in and ``size_out`` out."""
        self.requests[kind] += 1
        self.bytes_in += size_in
        self.bytes_out += size_out
        self.seconds[kind] += seconds
        histogram = self.histograms.get(kind)
        if histogram is None:
            histogram = self.histograms[kind] = [0] * BUCKETS
        # bucket_of, inlined: this runs once per request
        if seconds <= _FIRST_BOUND_S:
            histogram[0] += 1
        else:
            index = _ceil(_log2(seconds) * BUCKETS_PER_OCTAVE - 1e-9) - LOWEST_EXPONENT
            histogram[index if index < BUCKETS else BUCKETS - 1] += 1

    def histogram(self, kind: int | None = None) -> list[int]:
        """A copy of the histogram of ``kind``'s latencies (of all kinds for None)."""
        if kind is not None:
            counts = self.histograms.get(kind)
            return list(counts) if counts is not None else [0] * BUCKETS
        return add_histograms(self.histograms.values())

    def to_json(self) -> dict[str, Any]:
        """Plain data (JSON-ready) for a worker's status report."""
        return {
            "requests": self.requests,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": self.seconds,
            "histograms": {str(kind): counts for kind, counts in self.histograms.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], kinds: int) -> RequestMeter:
        """Inverse of :meth:`to_json`; kinds beyond ``kinds`` and buckets out of range are dropped.

        Raises:
            ValueError: If ``data`` is not the plain form of a meter.
        """
        meter = cls(kinds)
        try:
            for kind, n in enumerate(list(data.get("requests", ()))[:kinds]):
                meter.requests[kind] = int(n)
            for kind, s in enumerate(list(data.get("seconds", ()))[:kinds]):
                meter.seconds[kind] = float(s)
            meter.bytes_in = int(data.get("bytes_in", 0))
            meter.bytes_out = int(data.get("bytes_out", 0))
            for kind_text, counts in dict(data.get("histograms", {})).items():
                kind = int(kind_text)
                if 0 <= kind < kinds:
                    dense = list(map(int, counts))[:BUCKETS]
                    meter.histograms[kind] = dense + [0] * (BUCKETS - len(dense))
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"not a request meter: {exc}") from exc
        return meter
