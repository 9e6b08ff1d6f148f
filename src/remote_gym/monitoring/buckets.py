"""Latency histograms with fixed bucket bounds, shared by whatever times steps and whatever shows them.

Buckets are a quarter of an octave wide (each bound ~1.19x the one below, so a quantile read from
them is within ~9% of the exact one) from ~1 µs to 64 s, plus one for anything slower. Histograms
with these bounds merge by adding counts; quantiles of any span come from the difference of two.
A Prometheus text exposition of such a histogram (``remote_gym_step_duration_seconds``, which
exposes every other bound) reads back into one, so a hub computes its hosts' step times from the
metrics they send it.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
from collections.abc import Iterable, Sequence

STEP_DURATION = "remote_gym_step_duration_seconds"
"""The Prometheus histogram of step times (by env and path)."""

BUCKETS_PER_OCTAVE = 4
LOWEST_EXPONENT = -20 * BUCKETS_PER_OCTAVE
"""The lowest bound is 2**-20 s (~0.95 µs)."""
_HIGHEST_EXPONENT = 6 * BUCKETS_PER_OCTAVE
"""The highest finite bound is 2**6 = 64 s."""

BOUNDS_S: tuple[float, ...] = tuple(
    2.0 ** (e / BUCKETS_PER_OCTAVE) for e in range(LOWEST_EXPONENT, _HIGHEST_EXPONENT + 1)
)
"""Upper bounds (inclusive, seconds) of every bucket but the last, which holds anything slower."""
BUCKETS = len(BOUNDS_S) + 1

_log2 = math.log2
_ceil = math.ceil


def bucket_of(seconds: float) -> int:
    """The index of the bucket that holds a latency of ``seconds``."""
    if seconds <= BOUNDS_S[0]:
        return 0
    index = _ceil(_log2(seconds) * BUCKETS_PER_OCTAVE - 1e-9) - LOWEST_EXPONENT
    return index if index < BUCKETS else BUCKETS - 1


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


_BUCKET_LINE = re.compile(r'^(\w+)_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\S+)', re.M)


_SPREAD = BUCKETS_PER_OCTAVE // 2
"""Our buckets in one of the exposition's (it exposes every other bound)."""


def from_exposition(text: str, family: str = STEP_DURATION) -> list[int]:
    """The histogram ``family`` in Prometheus text ``text``, every label set added, as counts per bucket.

    A bucket of the exposition covers several of ours (it exposes every other bound): its count is
    spread over them evenly, which is what :func:`quantile` assumes inside one of ours anyway (over
    at most :data:`_SPREAD` of ours for the lowest, which holds everything faster).
    """
    cumulative: dict[float, float] = {}
    for name, le, value in _BUCKET_LINE.findall(text):
        if name == family:
            bound = math.inf if le == "+Inf" else float(le)
            cumulative[bound] = cumulative.get(bound, 0.0) + float(value)
    counts = [0] * BUCKETS
    below, seen = 0, 0.0
    for bound in sorted(cumulative):
        top = BUCKETS - 1 if bound == math.inf else bucket_of(bound)
        n = max(int(cumulative[bound] - seen), 0)
        seen = max(seen, cumulative[bound])
        first = max(min(below, top), top - _SPREAD + 1)
        share, extra = divmod(n, top - first + 1)
        for i in range(first, top + 1):
            counts[i] += share + (1 if i - first < extra else 0)
        below = top + 1
    return counts
