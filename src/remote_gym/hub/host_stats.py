"""Each attached host's own figures, asked over its Attach stream, joined with the hub's own.

The hub's GetStats and metrics endpoint show what the hub counts (the sessions it relays, its
hosts' links) and what each host counts (step times, workers' memory, crashes, env restarts): the
hub asks every attached host for its ``ServerStats`` at that moment, waits a short while, and
labels each host's figures with ``host``. A host that does not answer in time, is lost, or whose
release cannot answer, shows as ``missing`` (with why) and its figures are left out.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from remote_gym.capabilities import CAP_HUB_STATS
from remote_gym.hub.hosts import HostLink, HostTable
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

HOST_STATS_TIMEOUT_S = 1.0
"""Seconds the hub waits for a host's figures before showing them as missing."""

_ASK_IDS = itertools.count(1)

_FROM_HOST = (
    "steps",
    "resets",
    "requests",
    "received_bytes",
    "sent_bytes",
    "latency_p50_s",
    "latency_p99_s",
    "worker_pid",
    "worker_resident_bytes",
    "busy",
    "render_mode",
    "env_restarts",
)
"""Session figures the host knows best, copied into the hub's row of the same session: only the host
sees a session's requests on the same-host lane, which bypass the hub. The path joins both views."""


async def ask_hosts(hosts: HostTable, timeout_s: float = HOST_STATS_TIMEOUT_S) -> list[pb.HubHostStats]:
    """Every host's figures now, asked of all at once (runs on the hub's loop)."""
    return list(await asyncio.gather(*(_ask(host, timeout_s) for host in hosts)))


async def _ask(host: HostLink, timeout_s: float) -> pb.HubHostStats:
    row = pb.HubHostStats(name=host.name, state="attached" if host.link is not None else "lost")
    if host.link is None:
        row.missing = "its link to the hub is down"
        return row
    if CAP_HUB_STATS not in host.attach.capabilities:
        row.missing = f"its release ({host.attach.server_version or 'unknown'}) does not send its figures"
        return row
    ask_id = next(_ASK_IDS) & 0xFFFFFFFF
    answer: asyncio.Future[pb.ServerStats] = asyncio.get_running_loop().create_future()
    host.asks[ask_id] = answer
    try:
        host.control.put_nowait(pb.HubControl(stats=pb.HubStatsAsk(ask_id=ask_id)))
        row.stats.CopyFrom(await asyncio.wait_for(answer, timeout_s))
    except asyncio.TimeoutError:
        row.missing = f"it did not answer within {timeout_s:g} s"
    finally:
        host.asks.pop(ask_id, None)
    return row


def join(stats: pb.ServerStats, hosts: list[pb.HubHostStats], *, with_text: bool = True) -> None:
    """Put the hosts' figures into the hub's ``stats``: their session figures into the hub's rows of the
    same sessions, their crash, restart and memory totals into its totals, their metrics (labelled
    ``host``) into its metrics text (none without ``with_text``), and each host's uptime and totals into
    ``hub_hosts``."""
    rows = {(host.name, row.session_id): row for host in hosts for row in host.stats.sessions}
    for session in stats.sessions:
        theirs = rows.get((session.host, session.session_id))
        if theirs is not None:
            for name in _FROM_HOST:
                setattr(session, name, getattr(theirs, name))
            if theirs.path:  # the host's "grpc" is the hub's hop (hub-frames or hub-grpc); "lane" is its own
                paths = theirs.path.split("+")
                session.path = "+".join(session.path if path == "grpc" else path for path in paths)
    totals = stats.totals
    texts = {}
    for host in hosts:
        counted = host.stats.totals
        totals.worker_crashes += counted.worker_crashes
        totals.env_restarts += counted.env_restarts
        totals.workers_resident_bytes += counted.workers_resident_bytes
        if host.stats.metrics_text:
            texts[host.name] = host.stats.metrics_text
        shown = stats.hub_hosts.add()
        shown.CopyFrom(host)
        del shown.stats.sessions[:]
        shown.stats.metrics_text = ""
    stats.metrics_text = exposition(stats.metrics_text, texts).decode() if with_text else ""


def exposition(own: str, hosts: dict[str, str]) -> bytes:
    """The hub's metrics text ``own``, its process's figures, and each host's metrics text (by host name)
    with a ``host`` label, as one Prometheus text exposition (each family once)."""
    families: dict[str, Metric] = {}
    process = ProcessCollector(registry=None).collect()
    _merge(families, itertools.chain(text_string_to_metric_families(own), process), None)
    for name, text in sorted(hosts.items()):
        _merge(families, text_string_to_metric_families(text), name)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families.values())))
    return generate_latest(registry)


def _merge(families: dict[str, Metric], more: Iterable[Metric], host: str | None) -> None:
    for family in more:
        samples = family.samples
        if host is not None:
            samples = [sample._replace(labels={**sample.labels, "host": host}) for sample in samples]
        known = families.get(family.name)
        if known is None:
            family.samples = samples
            families[family.name] = family
        elif known.type == family.type:
            known.samples.extend(samples)
        # else: another release's family of another type under the same name; left out


class _Families(Collector):
    """Metric families already made."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)
