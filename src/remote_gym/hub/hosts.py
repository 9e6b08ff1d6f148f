"""The hub's table of attached hosts: attach and re-attach, routing, and the sessions routed to each."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field

from remote_gym.errors import (
    AuthenticationError,
    EnvNotFoundError,
    HostGoneError,
    HostNotFoundError,
    ServerBusyError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

logger = logging.getLogger(__name__)

SECRET_BYTES = 32

MAX_REMEMBERED_SESSIONS = 100_000
"""Sessions whose host the hub remembers for resumes (ended ones are forgotten when their host says so)."""


class HostLost(Exception):
    """The session's host lost its link and has not come back yet (it may still, within the grace period)."""


@dataclass(eq=False)
class HostLink:
    """One host by name; it outlives a broken link for the hub's grace period."""

    name: str
    attach: pb.HubAttach
    secret: bytes
    peer: str
    control: asyncio.Queue[pb.HubControl | None] = field(default_factory=asyncio.Queue)
    """Messages for the host's current Attach stream (None ends that stream)."""
    link: object | None = None
    """Identity of the current Attach stream; None while the host is lost."""
    since: float = field(default_factory=time.monotonic)
    """When the current link attached, or when the host was lost."""
    attaches: int = 1
    active: int = 0
    """Sessions routed to it that are being relayed now."""
    back: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while the host is attached."""
    gone_timer: asyncio.TimerHandle | None = None
    asks: dict[int, asyncio.Future[pb.ServerStats]] = field(default_factory=dict)
    """Its figures the hub asked for and awaits, by ask id (see hub.host_stats)."""

    @property
    def env_names(self) -> list[str]:
        """Its environments' names, the default first."""
        return [env.name for env in self.attach.environments]

    def offers(self, env_name: str) -> bool:
        """Whether it hosts ``env_name`` ("" is any host's default)."""
        return not env_name or env_name in self.env_names

    @property
    def free(self) -> float:
        """Sessions it can still take (infinite without a limit)."""
        capacity = self.attach.capacity
        return float("inf") if capacity == 0 else capacity - self.active

    def info(self) -> pb.HubHost:
        """Its row of the hub's ServerInfo."""
        return pb.HubHost(
            name=self.name,
            environments=list(self.attach.environments),
            capacity=self.attach.capacity,
            active_sessions=self.active,
            state="attached" if self.link is not None else "lost",
            state_age_s=time.monotonic() - self.since,
            attaches=self.attaches,
            peer=self.peer,
            server_version=self.attach.server_version,
        )


class HostTable:
    """Hosts by name; every method runs on the hub's event loop."""

    def __init__(self, grace_s: float) -> None:
        self._hosts: dict[str, HostLink] = {}
        self._grace_s = grace_s
        self.sessions: dict[str, str] = {}
        """Host name of each session routed (for resumes), by session id."""

    def __len__(self) -> int:
        return len(self._hosts)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._hosts.values()))

    def attach(self, attach: pb.HubAttach, peer: str, link: object) -> HostLink:
        """Take ``link`` as the Attach stream of host ``attach.name``.

        A name in use is taken over only by the same host: one presenting the secret the hub gave it.

        Raises:
            AuthenticationError: The name is in use by another host (or the secret is wrong).
        """
        name = attach.name
        host = self._hosts.get(name)
        if host is None:
            host = HostLink(name, attach, secrets.token_bytes(SECRET_BYTES), peer)
            self._hosts[name] = host
            logger.info("host %s attached from %s: %s", name, peer, ", ".join(host.env_names))
        elif not attach.secret or not hmac.compare_digest(attach.secret, host.secret):
            raise AuthenticationError(
                f"a host named {name!r} is already attached (from {host.peer}); pick another --name, "
                "or wait until the hub drops it"
            )
        else:
            if host.link is not None:  # the old link looks alive here, but the host itself says it is dead
                logger.info("host %s replaces its stale link", name)
                host.control.put_nowait(None)  # ends the stale stream's sender
            host.control = asyncio.Queue()
            host.attach, host.peer, host.attaches = attach, peer, host.attaches + 1
            if host.gone_timer is not None:
                host.gone_timer.cancel()
                host.gone_timer = None
            logger.info("host %s re-attached from %s (attach %d)", name, peer, host.attaches)
        host.link, host.since = link, time.monotonic()
        host.back.set()
        return host

    def lost(self, host: HostLink, link: object) -> None:
        """Its Attach stream ``link`` ended: keep it for the grace period, then drop it."""
        if host.link is not link or self._hosts.get(host.name) is not host:
            return  # a newer link replaced that one
        host.link, host.since = None, time.monotonic()
        host.back.clear()
        logger.warning("host %s lost its link; keeping it %.1f s", host.name, self._grace_s)
        host.gone_timer = asyncio.get_running_loop().call_later(self._grace_s, self._drop, host)

    def _drop(self, host: HostLink) -> None:
        if self._hosts.get(host.name) is host and host.link is None:
            del self._hosts[host.name]  # its sessions' resumes now fail with HostGoneError
            logger.warning("host %s did not come back within %.1f s: dropped", host.name, self._grace_s)

    def routed(self, session_id: str, host: HostLink) -> None:
        """Remember that ``host`` serves session ``session_id`` (the oldest memories go past a bound)."""
        self.sessions[session_id] = host.name
        if len(self.sessions) > MAX_REMEMBERED_SESSIONS:
            del self.sessions[next(iter(self.sessions))]

    def describe(self) -> str:
        """What is attached, for error messages."""
        if not self._hosts:
            return "no host is attached"
        rows = [f"{h.name} ({', '.join(h.env_names)})" for h in self._hosts.values() if h.link is not None]
        return "attached: " + ("; ".join(rows) if rows else "none (every host lost its link)")

    def route(self, env_name: str, pin: str) -> HostLink:
        """The host for a new session of ``env_name``: ``pin`` if given, else the one offering it with most room.

        Raises:
            HostNotFoundError: No attached host is named ``pin``, or none offers ``env_name``.
            ServerBusyError: Every host offering ``env_name`` is at its capacity.
            EnvNotFoundError: ``pin`` is attached but does not host ``env_name``.
        """
        if pin:
            host = self._hosts.get(pin)
            if host is None or host.link is None:
                raise HostNotFoundError(f"no host named {pin!r} is attached to this hub; {self.describe()}")
            if not host.offers(env_name):
                raise EnvNotFoundError(
                    f"host {pin!r} does not host {env_name!r}; it hosts {', '.join(host.env_names)}"
                )
            return host
        candidates = [h for h in self._hosts.values() if h.link is not None and h.offers(env_name)]
        if not candidates:
            what = f"environment {env_name!r}" if env_name else "any environment"
            raise HostNotFoundError(f"no attached host offers {what}; {self.describe()}")
        best = max(candidates, key=lambda h: h.free)
        if best.free <= 0:
            rows = ", ".join(f"{h.name} ({h.active}/{h.attach.capacity})" for h in candidates)
            raise ServerBusyError(
                f"every host offering {env_name or 'the default environment'!r} is full: {rows}"
            )
        return best

    async def host_of(self, session_id: str, wait_s: float) -> HostLink:
        """The host of session ``session_id``, waiting up to ``wait_s`` for it to come back if it is lost.

        Raises:
            HostGoneError: The host was dropped (it did not come back within the grace period).
            HostLost: The host is lost and did not come back within ``wait_s`` (it still may).
            HostNotFoundError: The hub never routed that session (or restarted since).
        """
        name = self.sessions.get(session_id)
        if name is None:
            raise HostNotFoundError(
                f"this hub routed no session {session_id!r} (it may have restarted); {self.describe()}"
            )
        host = self._hosts.get(name)
        if host is None:
            del self.sessions[session_id]
            raise HostGoneError(f"host {name!r}, which served session {session_id}, did not come back")
        if host.link is None:
            try:
                await asyncio.wait_for(host.back.wait(), wait_s)
            except asyncio.TimeoutError:
                raise HostLost(
                    f"host {name!r}, which serves session {session_id}, has lost its link to the hub"
                ) from None
        return host
