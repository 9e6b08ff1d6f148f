"""A hub's own figures: the sessions it relays (counted from message sizes and first bytes) and its hosts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from remote_gym._version import __version__
from remote_gym.hub.hosts import HostTable
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.http import WSGIApp, reply

STEP_KIND = pb.Request.DESCRIPTOR.fields_by_name["step"].number
RESET_KIND = pb.Request.DESCRIPTOR.fields_by_name["reset"].number


@dataclass(eq=False)
class Relayed:
    """One session being relayed, and what crossed the hub for it."""

    peer: str
    host: str
    env: str
    num_envs: int
    session_id: str = ""
    path: str = ""
    """How the hub reaches the host for it: ``hub-frames`` (a frame stream) or ``hub-grpc`` (a Carry stream)."""
    opened: float = field(default_factory=time.monotonic)
    requests: int = 0
    steps: int = 0
    resets: int = 0
    received: int = 0
    sent: int = 0


class HubFigures:
    """Relayed sessions open now and totals since the hub started; GetStats and metrics text from them."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.open: set[Relayed] = set()
        self.totals = pb.ServerTotals()

    def opened(self, session: Relayed, *, resumed: bool) -> None:
        """A relay began."""
        self.open.add(session)
        if resumed:
            self.totals.session_resumes += 1
        else:
            self.totals.sessions_opened += 1

    def closed(self, session: Relayed) -> None:
        """A relay ended: its counts join the totals."""
        self.open.discard(session)
        totals = self.totals
        totals.sessions_closed += 1
        self._add(totals, session)

    @staticmethod
    def _add(totals: pb.ServerTotals, session: Relayed) -> None:
        totals.requests += session.requests
        totals.steps += session.steps
        totals.env_steps += session.steps * max(session.num_envs, 1)
        totals.resets += session.resets
        totals.received_bytes += session.received
        totals.sent_bytes += session.sent

    def stats(self, hosts: HostTable) -> pb.ServerStats:
        """What GetStats answers: a row per relayed session (its peer shows the host), totals, metrics text."""
        now = time.monotonic()
        stats = pb.ServerStats(server_version=__version__, monitoring=True, uptime_s=now - self.started)
        stats.totals.CopyFrom(self.totals)
        for session in self.open:
            self._add(stats.totals, session)
            stats.sessions.add(
                session_id=session.session_id,
                env=session.env,
                peer=f"{session.peer} -> host {session.host}",
                state="attached",
                age_s=now - session.opened,
                steps=session.steps,
                resets=session.resets,
                requests=session.requests,
                received_bytes=session.received,
                sent_bytes=session.sent,
                num_envs=session.num_envs,
                host=session.host,
                path=session.path,
            )
        stats.metrics_text = self.metrics_text(hosts, stats.totals)
        return stats

    @staticmethod
    def metrics_text(hosts: HostTable, totals: pb.ServerTotals) -> str:
        """The hub's figures in Prometheus' text format, each host's labelled ``host``."""
        lines = [
            "# HELP remote_gym_hub_host_attached Whether the host's link to the hub is up (1) or lost (0).",
            "# TYPE remote_gym_hub_host_attached gauge",
        ]
        rows = list(hosts)
        lines += [f'remote_gym_hub_host_attached{{host="{h.name}"}} {int(h.link is not None)}' for h in rows]
        lines += [
            "# HELP remote_gym_hub_host_sessions Sessions the hub relays to the host now.",
            "# TYPE remote_gym_hub_host_sessions gauge",
        ]
        lines += [f'remote_gym_hub_host_sessions{{host="{h.name}"}} {h.active}' for h in rows]
        lines += [
            "# HELP remote_gym_hub_host_attaches_total Times the host attached (re-attaches after broken links).",
            "# TYPE remote_gym_hub_host_attaches_total counter",
        ]
        lines += [f'remote_gym_hub_host_attaches_total{{host="{h.name}"}} {h.attaches}' for h in rows]
        for name, value, what in (
            ("sessions_opened_total", totals.sessions_opened, "Sessions routed."),
            ("session_resumes_total", totals.session_resumes, "Resumes routed."),
            ("requests_total", totals.requests, "Requests relayed."),
            ("received_bytes_total", totals.received_bytes, "Bytes of requests relayed."),
            ("sent_bytes_total", totals.sent_bytes, "Bytes of replies relayed."),
        ):
            lines += [
                f"# HELP remote_gym_hub_{name} {what}",
                f"# TYPE remote_gym_hub_{name} counter",
                f"remote_gym_hub_{name} {value}",
            ]
        return "\n".join(lines) + "\n"


def metrics_app(stats: Callable[[], pb.ServerStats]) -> WSGIApp:
    """The hub's ``/metrics``: the metrics text of ``stats()`` (its own figures and each host's)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") != "/metrics":
            return reply(start_response, "404 Not Found", "text/plain", b"not found (try /metrics)\n")
        return reply(start_response, "200 OK", CONTENT_TYPE_LATEST, stats().metrics_text.encode())

    return app
