"""The server's figures for Prometheus (and for ``GetStats``): built from the ledger and the open sessions.

Counts live as plain integers in the :class:`~remote_gym.server.ledger.Ledger` and each session's
:class:`~remote_gym.server.ledger.SessionCounts`; a scrape takes a consistent snapshot of them on the
server's event loop (where they change), then exposes it through prometheus-client's metric families.
Request latencies on the gRPC path also go to a prometheus-client histogram directly; step times on
every path come from the sessions' request meters (``remote_gym_step_duration_seconds{env, path}``).
Worker memory is read from ``/proc`` when a snapshot is taken (at most every 5 s per worker), so
it costs nothing per step.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from remote_gym._version import __version__
from remote_gym.codec.requests import REQUEST_KINDS
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.meter import BUCKETS, add_histograms, quantile
from remote_gym.server.hosting.workers import WorkerProcess
from remote_gym.server.ledger import RESET, STEP
from remote_gym.server.memory import resident_bytes
from remote_gym.server.sessions import SessionRecord, SessionTable, collect_status
from remote_gym.server.steptimes import step_time_family

LATENCY_BUCKETS_S = (
    50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
)  # fmt: skip
"""Bucket bounds of the request latency histogram: a CartPole step takes ~100-200 µs in the server."""

SNAPSHOT_TIMEOUT_S = 5.0
RESIDENT_FRESH_S = 5.0
"""A worker's memory read from ``/proc`` less than this long ago is not read again."""


@dataclass
class Snapshot:
    """The server's counts at one moment (copies: safe to read from any thread)."""

    uptime_s: float
    hosting: str
    sessions: list[pb.SessionStats]
    opened: dict[str, int]
    closed: dict[tuple[str, str], int]
    requests: dict[str, list[int]]
    """Requests by env then kind, open and closed sessions together."""
    bytes_in: dict[str, int]
    bytes_out: dict[str, int]
    env_steps: dict[str, int]
    crashes: dict[str, int]
    env_restarts: dict[str, int]
    resumes: dict[str, int]
    refusals: dict[str, int]
    step_times: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """Step latency histograms by (env, path), open and closed sessions together."""
    step_seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    """Seconds spent answering steps by (env, path), open and closed sessions together."""
    session_steps: dict[str, list[int]] = field(default_factory=dict)
    """Each open session's step latency histogram (see SessionCounts.step_histogram), by session id."""
    taken_at: float = 0.0
    """When it was taken (monotonic seconds)."""
    worker_pids: list[int] = field(default_factory=list)


class ServerMetrics:
    """The server's metrics registry: a latency histogram, and a collector over the session table."""

    def __init__(self, sessions: SessionTable) -> None:
        self._sessions = sessions
        self._loop = asyncio.get_running_loop()
        self.registry = CollectorRegistry()
        self._resident: dict[int, tuple[float, int]] = {}
        """Worker memory by pid: (when read, bytes)."""
        self.collected_at = -math.inf
        """When the workers were last asked for their status (monotonic seconds)."""
        latency = Histogram(
            "remote_gym_request_duration_seconds",
            "Time from a request's arrival to its reply, in the server, by request kind.",
            ["method"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.latency_observers = [latency.labels(kind).observe for kind in REQUEST_KINDS]
        """Per request kind (field number), the histogram child's ``observe``."""
        self.registry.register(_Collector(self))
        ProcessCollector(registry=self.registry)  # the gRPC process's own CPU time and memory

    def snapshot(self, *, status_age_s: float = 0.0, detail: bool = True) -> Snapshot:
        """Copy the counts; from another thread, the copy is taken on the server's event loop, after
        asking the workers for their status unless someone did less than ``status_age_s`` ago.

        Without ``detail``, the step-time histograms by (env, path) and by session are left out
        (the session rows, which ``/stats.json`` needs alone, have their quantiles all the same).
        """
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            snap = self._take(detail)
        else:
            ask = time.monotonic() - self.collected_at >= status_age_s
            snap = asyncio.run_coroutine_threadsafe(self._take_async(ask, detail), self._loop).result(
                SNAPSHOT_TIMEOUT_S
            )
        now = time.monotonic()
        known, read = self._resident, {}
        for row in snap.sessions:  # /proc reads: off the loop when called from another thread
            if row.worker_pid:
                at, size = known.get(row.worker_pid, (-RESIDENT_FRESH_S, 0))
                if now - at >= RESIDENT_FRESH_S:
                    at, size = now, resident_bytes(row.worker_pid)
                read[row.worker_pid] = (at, size)
                row.worker_resident_bytes = size
        self._resident = read  # the workers of closed sessions forgotten
        return snap

    async def _take_async(self, ask: bool, detail: bool) -> Snapshot:
        if ask:
            await self.collect_statuses()
        return self._take(detail)

    async def collect_statuses(self) -> None:
        """Ask every session's host what only it knows (see :func:`collect_status`), all at once."""
        started = time.monotonic()
        await asyncio.gather(*(collect_status(record, record.host) for record in self._sessions))
        self.collected_at = started

    def _take(self, detail: bool = True) -> Snapshot:
        ledger = self._sessions.ledger
        now = time.monotonic()
        requests = {env: list(kinds) for env, kinds in ledger.requests.items()}
        bytes_in, bytes_out, env_steps = dict(ledger.bytes_in), dict(ledger.bytes_out), dict(ledger.env_steps)
        env_restarts = dict(ledger.env_restarts)
        step_times = {key: list(counts) for key, counts in ledger.step_times.items()}
        step_seconds: dict[tuple[str, str], float] = dict(ledger.step_seconds)
        session_steps = {}
        rows = []
        for record in self._sessions:
            counts = record.counts
            if counts is None:
                continue
            env = record.env_name
            made = counts.requests
            kinds = requests.setdefault(env, [0] * len(REQUEST_KINDS))
            for kind, n in enumerate(made):
                kinds[kind] += n
            bytes_in[env] = bytes_in.get(env, 0) + counts.bytes_in
            bytes_out[env] = bytes_out.get(env, 0) + counts.bytes_out
            env_steps[env] = env_steps.get(env, 0) + made[STEP] * max(record.num_envs, 1)
            env_restarts[env] = env_restarts.get(env, 0) + counts.env_restarts
            histogram = counts.step_histogram()
            if detail:
                for path, meter in counts.meters().items():
                    key = (env, path)
                    before = step_times.get(key, [0] * BUCKETS)
                    step_times[key] = add_histograms((before, meter.histograms.get(STEP, ())))
                    step_seconds[key] = step_seconds.get(key, 0.0) + meter.seconds[STEP]
                session_steps[record.session_id] = histogram
            rows.append(_row(record, now, made, counts.recent_steps(now, histogram)))
        return Snapshot(
            uptime_s=now - ledger.started_at,
            hosting=ledger.hosting,
            sessions=rows,
            opened=dict(ledger.opened),
            closed=dict(ledger.closed),
            requests=requests,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            env_steps=env_steps,
            crashes=dict(ledger.crashes),
            env_restarts=env_restarts,
            resumes=dict(ledger.resumes),
            refusals=dict(ledger.refusals),
            step_times=step_times,
            step_seconds=step_seconds,
            session_steps=session_steps,
            taken_at=now,
        )

    def text(self) -> bytes:
        """Every figure in Prometheus' text exposition format."""
        return generate_latest(self.registry)

    def stats(self, snap: Snapshot, *, with_text: bool = True) -> pb.ServerStats:
        """The ``GetStats`` reply: ``snap``'s session rows and (``with_text``) the exposition text,
        which takes a snapshot of its own."""
        return pb.ServerStats(
            server_version=__version__,
            monitoring=True,
            uptime_s=snap.uptime_s,
            sessions=snap.sessions,
            metrics_text=self.text().decode() if with_text else "",
            totals=totals(snap),
        )


def totals(snap: Snapshot) -> pb.ServerTotals:
    """The server-wide sums of ``snap``'s figures."""
    requests = [sum(kinds) for kinds in zip(*snap.requests.values(), strict=True)] or [0] * len(REQUEST_KINDS)
    return pb.ServerTotals(
        sessions_opened=sum(snap.opened.values()),
        sessions_closed=sum(snap.closed.values()),
        steps=requests[STEP],
        env_steps=sum(snap.env_steps.values()),
        resets=requests[RESET],
        requests=sum(requests),
        worker_crashes=sum(snap.crashes.values()),
        env_restarts=sum(snap.env_restarts.values()),
        session_resumes=sum(snap.resumes.values()),
        refusals=sum(snap.refusals.values()),
        received_bytes=sum(snap.bytes_in.values()),
        sent_bytes=sum(snap.bytes_out.values()),
        workers_resident_bytes=sum(row.worker_resident_bytes for row in snap.sessions),
    )


def _row(record: SessionRecord, now: float, made: list[int], steps: list[int]) -> pb.SessionStats:
    counts = record.counts
    assert counts is not None
    host = record.host
    return pb.SessionStats(
        session_id=record.session_id,
        env=record.env_name,
        peer=record.peer,
        state=record.state.name.lower(),
        age_s=now - counts.opened_at,
        steps=made[STEP],
        resets=made[RESET],
        requests=sum(made),
        latency_p50_s=quantile(steps, 0.5),
        latency_p99_s=quantile(steps, 0.99),
        received_bytes=counts.bytes_in,
        sent_bytes=counts.bytes_out,
        worker_pid=host.pid if isinstance(host, WorkerProcess) else 0,
        busy=record.busy,
        num_envs=record.num_envs,
        render_mode=record.render_mode or "",
        env_restarts=counts.env_restarts,
        path=counts.path(),
    )


class _Collector(Collector):
    """Turns a snapshot into Prometheus metric families (names follow Prometheus' conventions)."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        snap = self._metrics.snapshot()
        info = InfoMetricFamily("remote_gym_server", "The server's version and hosting mode.")
        info.add_metric([], {"version": __version__, "hosting": snap.hosting})
        yield info
        yield _gauge(
            "remote_gym_uptime_seconds", "Seconds since the server started.", [], {(): snap.uptime_s}
        )
        open_by_env: Labelled = {}
        for row in snap.sessions:
            open_by_env[(row.env,)] = open_by_env.get((row.env,), 0) + 1
        yield _gauge("remote_gym_sessions_open", "Sessions open now.", ["env"], open_by_env)
        yield _counter("remote_gym_sessions_opened", "Sessions opened.", ["env"], _keyed(snap.opened))
        closed: Labelled = {key: n for key, n in snap.closed.items()}
        yield _counter(
            "remote_gym_sessions_closed", "Sessions closed, by end reason.", ["env", "reason"], closed
        )
        by_method: Labelled = {}
        steps: Labelled = {}
        resets: Labelled = {}
        for env, kinds in snap.requests.items():
            for kind, n in enumerate(kinds):
                if n:
                    key = (env, REQUEST_KINDS[kind])
                    by_method[key] = by_method.get(key, 0) + n
            steps[(env,)], resets[(env,)] = kinds[STEP], kinds[RESET]
        yield _counter("remote_gym_requests", "Requests answered, by kind.", ["env", "method"], by_method)
        yield _counter(
            "remote_gym_steps", "Step requests answered (a vector step counts once).", ["env"], steps
        )
        yield _counter("remote_gym_resets", "Reset requests answered.", ["env"], resets)
        yield step_time_family(snap.step_times, snap.step_seconds)
        for name, doc, label, values in (
            ("env_steps", "Sub-environment steps (a vector step of N envs counts N).", "env", snap.env_steps),
            ("received_bytes", "Bytes of requests received.", "env", snap.bytes_in),
            ("sent_bytes", "Bytes of replies sent.", "env", snap.bytes_out),
            ("worker_crashes", "Worker processes that died under a session.", "env", snap.crashes),
            (
                "env_restarts",
                "Sub-environments recreated after they raised (on_env_failure='restart').",
                "env",
                snap.env_restarts,
            ),
            ("session_resumes", "Sessions resumed after a broken stream.", "env", snap.resumes),
            ("refusals", "Sessions or calls refused, by reason.", "reason", snap.refusals),
        ):
            yield _counter(f"remote_gym_{name}", doc, [label], _keyed(values))
        workers = [row for row in snap.sessions if row.worker_pid]
        yield _gauge("remote_gym_workers", "Worker processes serving sessions.", [], {(): len(workers)})
        yield _gauge(
            "remote_gym_workers_resident_memory_bytes",
            "Resident memory of all worker processes (and their helper processes).",
            [],
            {(): sum(row.worker_resident_bytes for row in workers)},
        )


Labelled = dict[tuple[str, ...], float]
"""Values by their label values."""


def _keyed(values: dict[str, int]) -> Labelled:
    return {(key,): n for key, n in values.items()}


def _counter(name: str, doc: str, labels: list[str], values: Labelled) -> Metric:
    return _family(CounterMetricFamily(name, doc, labels=labels), values)


def _gauge(name: str, doc: str, labels: list[str], values: Labelled) -> Metric:
    return _family(GaugeMetricFamily(name, doc, labels=labels), values)


def _family(family: CounterMetricFamily | GaugeMetricFamily, values: Labelled) -> Metric:
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family
