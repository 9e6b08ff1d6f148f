"""A connection's lane slot: which offered lane to take (the one rule), and the fallback to gRPC for good."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from remote_gym.capabilities import CAP_NETWORK_LANE
from remote_gym.client.config import ClientConfig
from remote_gym.client.lane import Lane, LaneBroken, LaneSecurity, is_network_lane
from remote_gym.errors import ConfigError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.status import foreign_error
from remote_gym.transport.tls import TLSConfig
from remote_gym.wire.handshake import derived_secret
from remote_gym.wire.polling import spin_budget_s

logger = logging.getLogger(__name__)


def withhold_network_lane(request: pb.Request, config: ClientConfig) -> None:
    """Leave ``network_lane`` out of a make request's capabilities when ``config`` takes no network lane
    (the server then has no worker listen for one)."""
    if not config.network_lane and CAP_NETWORK_LANE in request.make.capabilities:
        request.make.capabilities.remove(CAP_NETWORK_LANE)


REOPEN_DELAY_S = (0.05, 5.0)
"""A network lane is opened again this long after it broke, doubling (to the second figure) while
it keeps breaking; a request carried on it sets the delay back to the first."""
REOPEN_TIMEOUT_S = 1.0
"""Longest wait for a re-opened lane's connection and handshake (the request waits meanwhile)."""
MAX_FAILED_REOPENS = 5
"""Attempts in a row that do not open the lane before the session stays on gRPC for good."""


@dataclass
class _Reopening:
    """A network lane to open again after a cut: its offer, and when and how often to try."""

    path: str
    secret: bytes
    spin_s: float
    security: LaneSecurity | None
    attempt: int = 0
    """The number of the last connection tried (0: the first, with the session's own secret)."""
    delay: float = REOPEN_DELAY_S[0]
    due: float = 0.0
    failures: int = 0


class LaneSlot:
    """A connection's lane, if it has one: tries a request on it, and falls back to gRPC on any failure
    (a network lane is opened again later, with the next of its one-time secrets; a same-host lane
    stays closed)."""

    def __init__(self, target: str) -> None:
        self._target = target
        self.lane: Lane | None = None
        self._reopening: _Reopening | None = None

    @property
    def path(self) -> str:
        """Which path requests take now: ``"lane"`` (same host), ``"network-lane"`` or ``"grpc"``."""
        if self.lane is None:
            return "grpc"
        return "network-lane" if is_network_lane(self.lane.path) else "lane"

    def take_offer(
        self, path: str, secret: bytes, config: ClientConfig, tls: TLSConfig | None, host: str
    ) -> None:
        """Open the lane a MakeResponse offered, if ``config`` takes lanes of its kind (the one rule:
        a same-host lane when ``same_host_lane``, a network lane when ``network_lane``)."""
        network = is_network_lane(path)
        if not path or not (config.network_lane if network else config.same_host_lane):
            return
        security = None
        if network:
            try:
                context = tls.ssl_context() if tls is not None else None
            except ConfigError as exc:
                logger.warning("cannot use the network lane to %s (%s): staying on gRPC", self._target, exc)
                return
            server_name = (tls.server_name if tls is not None else None) or host
            security = LaneSecurity(context, server_name, config.max_message_bytes)
        self.open(path, secret, config.timeouts.connect, config.spin_us, security)
        if network:
            self._reopening = _Reopening(path, secret, spin_budget_s(config.spin_us), security)

    def reopen_if_due(self) -> None:
        """Before a request: open a network lane again if it broke a while ago (see :data:`REOPEN_DELAY_S`)."""
        again = self._reopening
        if self.lane is not None or again is None or time.monotonic() < again.due:
            return
        again.attempt += 1  # every attempt takes a new secret: a cut one may have been used up
        secret = derived_secret(again.secret, again.attempt)
        self.lane = Lane.open(again.path, secret, REOPEN_TIMEOUT_S, again.spin_s, again.security)
        if self.lane is not None:
            logger.info("the lane to %s is open again", self._target)
            again.failures = 0
            return
        again.failures += 1
        if again.failures >= MAX_FAILED_REOPENS:
            logger.info("the lane to %s cannot be opened again: staying on gRPC", self._target)
            self._reopening = None
        else:
            self._postpone(again)

    def _postpone(self, again: _Reopening) -> None:
        again.due = time.monotonic() + again.delay
        again.delay = min(again.delay * 2, REOPEN_DELAY_S[1])

    def open(
        self,
        path: str,
        secret: bytes,
        timeout: float,
        spin_us: float = 0.0,
        security: LaneSecurity | None = None,
    ) -> None:
        """Open the lane a MakeResponse offered (if this process can open its path)."""
        self.close()
        self.lane = Lane.open(path, secret, timeout, spin_budget_s(spin_us), security)
        if self.lane is not None:
            logger.debug("requests to %s go straight to the worker over %s", self._target, path)

    def request(self, payload: bytes, timeout: float | None) -> bytes | None:
        """The reply to ``payload`` through the lane, or None if the lane failed (re-send it through gRPC).

        Raises:
            DeadlineExceededError: No reply within ``timeout`` (the lane is closed).
        """
        lane = self.lane
        assert lane is not None
        try:
            reply = lane.roundtrip(payload, timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except BaseException:  # a deadline or an interrupt: the lane is out of step
            self.close()
            raise
        self._carried()
        return reply

    def _carried(self) -> None:
        if self._reopening is not None:
            self._reopening.delay = REOPEN_DELAY_S[0]

    async def arequest(self, payload: bytes, timeout: float | None) -> bytes | None:
        """:meth:`request` on the running event loop."""
        lane = self.lane
        assert lane is not None
        try:
            if timeout is None:
                reply = await lane.aroundtrip(payload)
            else:
                reply = await asyncio.wait_for(lane.aroundtrip(payload), timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except asyncio.TimeoutError as exc:
            self.close()
            raise foreign_error(exc, f"request to {self._target}", timeout=timeout) from exc
        except BaseException:
            self.close()
            raise
        self._carried()
        return reply

    def _fall_back(self, exc: BaseException) -> None:
        logger.info("the lane to %s broke (%s): going on through gRPC", self._target, exc)
        lane, self.lane = self.lane, None
        if lane is not None:
            lane.close()
        if self._reopening is not None:
            self._postpone(self._reopening)

    def close(self) -> None:
        """Close the lane for good (idempotent); later requests go through gRPC."""
        self._reopening = None
        lane, self.lane = self.lane, None
        if lane is not None:
            lane.close()
