"""Time and count a session's requests, whatever path they take: counts, bytes, latency histograms.

One :class:`RequestMeter` per session and path: the gRPC process records each request it forwards,
a worker records each request its same-host lane answers (and reports its meter in its status, see
:class:`~remote_gym.wire.control.WorkerStatus`). Both use the same fixed bucket bounds, so
meters merge by adding counts, and the server derives every quantile it shows (the session table's
p50/p99, the charts, Prometheus' step-time histogram) from the same histograms.

Buckets are a quarter of an octave wide (each bound ~1.19x the one below, so a quantile read from
them is within ~9% of the exact one) from ~1 µs to 64 s, plus one for anything slower. Recording a
request costs a few list updates and one ``log2``: no allocation, no lock.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any

BUCKETS_PER_OCTAVE = 4
_LOWEST_EXPONENT = -20 * BUCKETS_PER_OCTAVE
"""The lowest bound is 2**-20 s (~0.95 µs)."""
_HIGHEST_EXPONENT = 6 * BUCKETS_PER_OCTAVE
"""The highest finite bound is 2**6 = 64 s."""

BOUNDS_S: tuple[float, ...] = tuple(
    2.0 ** (e / BUCKETS_PER_OCTAVE) for e in range(_LOWEST_EXPONENT, _HIGHEST_EXPONENT + 1)
)
"""Upper bounds (inclusive, seconds) of every bucket but the last, which holds anything slower."""
BUCKETS = len(BOUNDS_S) + 1

PATHS = ("grpc", "lane", "network-lane")
"""The paths a request can take to a session's env today (the hub adds its own)."""

_log2 = math.log2
_ceil = math.ceil
_FIRST_BOUND_S = BOUNDS_S[0]


def bucket_of(seconds: float) -> int:
    """The index of the bucket that holds a latency of ``seconds``."""
    if seconds <= BOUNDS_S[0]:
        return 0
    index = _ceil(_log2(seconds) * BUCKETS_PER_OCTAVE - 1e-9) - _LOWEST_EXPONENT
    return index if index < BUCKETS else BUCKETS - 1


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
            index = _ceil(_log2(seconds) * BUCKETS_PER_OCTAVE - 1e-9) - _LOWEST_EXPONENT
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


def add_histograms(histograms: Iterable[Sequence[int]]) -> list[int]:
    """The bucket-wise sum of ``histograms`` (empty ones count as zeros)."""
    total: list[int] | None = None
    for counts in histograms:
        if counts:
            total = list(counts) if total is None else list(map(operator.add, total, counts))
    return total if total is not None else [0] * BUCKETS


def subtract_histograms(later: Sequence[int], earlier: Sequence[int]) -> list[int]:
    """What ``later`` counted since ``earlier`` (never below 0: a meter that started again counts anew)."""
    difference = list(map(operator.sub, later, earlier))
    return difference if min(difference, default=0) >= 0 else [max(n, 0) for n in difference]


def quantile(histogram: Sequence[int], q: float) -> float:
    """The ``q``-quantile (0..1) of the latencies counted in ``histogram``, in seconds (0.0 if empty).

    Interpolated geometrically inside the bucket that holds it (the buckets are spaced geometrically).
    """
    cumulative = list(itertools.accumulate(histogram))
    total = cumulative[-1] if cumulative else 0
    if not total:
        return 0.0
    rank = max(q * total, 1e-9)
    i = bisect.bisect_left(cumulative, rank)  # the first bucket whose cumulative count reaches the rank
    if i >= len(BOUNDS_S):
        return BOUNDS_S[-1]
    seen = cumulative[i - 1] if i else 0
    fraction = min(max((rank - seen) / (cumulative[i] - seen), 0.0), 1.0)
    return float(BOUNDS_S[i] / _STEP * _STEP**fraction)


_STEP = 2.0 ** (1 / BUCKETS_PER_OCTAVE)
