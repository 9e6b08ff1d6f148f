"""Request meters: bucket bounds, quantiles read from them, merging, and their plain-data form."""

from __future__ import annotations

import random

import pytest

from remote_gym.server.handlers.meter import (
    BOUNDS_S,
    BUCKETS,
    RequestMeter,
    add_histograms,
    bucket_of,
    quantile,
    subtract_histograms,
)


@pytest.mark.parametrize("seconds", [1e-7, 3e-6, 1.5e-4, 2.0**-13, 0.25, 1.0, 63.9])
def test_a_latency_lands_in_the_bucket_whose_bounds_hold_it(seconds: float) -> None:
    """Bucket i holds latencies in (BOUNDS_S[i-1], BOUNDS_S[i]]."""
    i = bucket_of(seconds)
    assert seconds <= BOUNDS_S[i]
    assert i == 0 or seconds > BOUNDS_S[i - 1]


def test_slower_than_the_last_bound_goes_to_the_overflow_bucket() -> None:
    """Anything over 64 s is counted, in the last bucket."""
    assert bucket_of(1e6) == BUCKETS - 1


def test_quantiles_from_the_histogram_are_within_a_bucket_of_the_exact_ones() -> None:
    """p50 and p99 read from the histogram are within ~9% (one bucket) of the samples' own."""
    rng = random.Random(0)
    samples = sorted(rng.lognormvariate(-8.8, 0.4) for _ in range(20_000))
    meter = RequestMeter(8)
    for s in samples:
        meter.record(3, 10, 20, s)
    for q in (0.5, 0.99):
        exact = samples[int(q * len(samples))]
        assert quantile(meter.histogram(3), q) == pytest.approx(exact, rel=0.1)
    assert quantile([0] * BUCKETS, 0.5) == 0.0


def test_a_meter_counts_and_round_trips_through_its_plain_form() -> None:
    """Requests, bytes, seconds and histograms survive to_json/from_json."""
    meter = RequestMeter(8)
    meter.record(3, 10, 20, 1e-4)
    meter.record(3, 11, 21, 2e-4)
    meter.record(2, 5, 6, 1e-3)
    back = RequestMeter.from_json(meter.to_json(), 8)
    assert back.requests == meter.requests == [0, 0, 1, 2, 0, 0, 0, 0]
    assert (back.bytes_in, back.bytes_out) == (26, 47)
    assert back.histograms == meter.histograms
    assert back.seconds == meter.seconds
    assert sum(meter.histogram()) == 3


def test_a_malformed_plain_form_is_a_value_error_and_out_of_range_entries_are_dropped() -> None:
    """A report naming unknown kinds or too many buckets loses those only; garbage raises ValueError."""
    meter = RequestMeter.from_json(
        {"requests": [1], "histograms": {"99": [1], "0": [0, 0, 1] + [4] * 200}}, 4
    )
    assert meter.requests == [1, 0, 0, 0]
    assert meter.histograms.keys() == {0}
    assert len(meter.histogram(0)) == BUCKETS
    assert meter.histogram(0)[:3] == [0, 0, 1]
    with pytest.raises(ValueError, match="not a request meter"):
        RequestMeter.from_json({"histograms": {"0": 5}}, 4)


def test_histograms_add_and_subtract_bucket_wise() -> None:
    """Sums merge meters; differences give what was counted in between (never negative)."""
    a, b = [0] * BUCKETS, [0] * BUCKETS
    a[3], b[3], b[5] = 2, 5, 1
    assert add_histograms((a, b))[3] == 7
    assert subtract_histograms(b, a)[3] == 3
    assert subtract_histograms(a, b)[5] == 0


def test_a_worker_status_carries_its_lane_meter() -> None:
    """The lane's meter survives the status control message, and a status without one has none."""
    from remote_gym.wire.control import WorkerStatus

    meter = RequestMeter(8)
    meter.record(3, 10, 20, 1e-4)
    status = WorkerStatus(
        env_restarts=1, quiet_s=0.5, lane_requests=meter.requests, lane_meter=meter.to_json()
    )
    back = WorkerStatus.from_bytes(status.to_bytes())
    assert back.lane_meter is not None
    assert RequestMeter.from_json(back.lane_meter, 8).histograms == meter.histograms
    assert WorkerStatus.from_bytes(WorkerStatus(env_restarts=2).to_bytes()).lane_meter is None


def test_a_sessions_quantiles_cover_its_last_minutes_on_both_paths() -> None:
    """SessionCounts adds its lane meter to its gRPC one, and its recent histogram forgets old steps."""
    from remote_gym.server.ledger import RECENT_S, STEP, SessionCounts
    from remote_gym.wire.control import WorkerStatus

    counts = SessionCounts(lane_offered=True)
    assert counts.path() == "lane"
    start = counts.opened_at
    for _ in range(100):
        counts.record(STEP, 10, 20, 1.0)  # slow steps, long ago
    assert counts.path() == "grpc"
    assert quantile(counts.recent_steps(start + 1), 0.5) == pytest.approx(1.0, rel=0.2)
    counts.recent_steps(start + RECENT_S)  # the window turns
    lane = RequestMeter(len(counts.meter.requests))
    for _ in range(300):
        lane.record(STEP, 10, 20, 1e-4)
    counts.add_status(WorkerStatus(lane_meter=lane.to_json()))
    assert counts.path() == "lane+grpc"
    assert counts.requests[STEP] == 400
    assert counts.bytes_in == 4000
    recent = counts.recent_steps(start + 2 * RECENT_S)  # the slow steps are before the baseline
    assert sum(recent) == 300
    assert quantile(recent, 0.99) < 2e-4
