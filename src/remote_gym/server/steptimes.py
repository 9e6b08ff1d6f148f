"""Step times by env and path as a Prometheus histogram, built from the sessions' request meters."""

from __future__ import annotations

from prometheus_client.core import HistogramMetricFamily

from remote_gym.monitoring.buckets import BOUNDS_S, BUCKETS_PER_OCTAVE, STEP_DURATION

EXPOSED_EVERY = BUCKETS_PER_OCTAVE // 2
"""Prometheus gets every other bound of the meters' buckets (each ~1.41x the one below)."""
_LOWEST_EXPOSED_S = 2.0**-16
"""~15 µs: no step answers faster."""

EXPOSED_BOUNDS: tuple[tuple[int, float], ...] = tuple(
    (i, bound) for i, bound in enumerate(BOUNDS_S) if i % EXPOSED_EVERY == 0 and bound >= _LOWEST_EXPOSED_S
)
"""(meter bucket index, bound in seconds) of the histogram's buckets (``le``), +Inf aside."""


def step_time_family(
    histograms: dict[tuple[str, str], list[int]], seconds: dict[tuple[str, str], float]
) -> HistogramMetricFamily:
    """``remote_gym_step_duration_seconds{env, path}``: ``histograms`` are meter histograms by (env, path).

    Exact at every exposed bound (each is a bound of the meters' own buckets), so Prometheus'
    ``histogram_quantile`` over it agrees with the page's and ``top``'s quantiles to within a bucket.
    """
    family = HistogramMetricFamily(
        STEP_DURATION,
        "Time to answer a step, by env and path: on the gRPC path from the request's arrival in the "
        "server to its reply, on the same-host lane from its arrival in the worker to its reply.",
        labels=["env", "path"],
    )
    for key, counts in sorted(histograms.items()):
        total = sum(counts)
        if not total:
            continue
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        last = 0
        for index, bound in EXPOSED_BOUNDS:
            cumulative += sum(counts[last : index + 1])
            last = index + 1
            buckets.append((repr(bound), float(cumulative)))
        buckets.append(("+Inf", float(total)))
        family.add_metric(list(key), buckets, sum_value=seconds.get(key, 0.0))
    return family
