"""A connection's lane slot: which offered lane to take (the one rule), and the fallback to gRPC for good."""

from __future__ import annotations

import asyncio
import logging

from remote_gym.capabilities import CAP_NETWORK_LANE
from remote_gym.client.config import ClientConfig
from remote_gym.client.lane import Lane, LaneBroken, LaneSecurity, is_network_lane
from remote_gym.errors import ConfigError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.status import foreign_error
from remote_gym.transport.tls import TLSConfig
from remote_gym.wire.polling import spin_budget_s

logger = logging.getLogger(__name__)


def withhold_network_lane(request: pb.Request, config: ClientConfig) -> None:
    """Leave ``network_lane`` out of a make request's capabilities when ``config`` takes no network lane
    (the server then has no worker listen for one)."""
    if not config.network_lane and CAP_NETWORK_LANE in request.make.capabilities:
        request.make.capabilities.remove(CAP_NETWORK_LANE)


class LaneSlot:
    """A connection's lane, if it has one: tries a request on it, and falls back for good on any failure."""

    def __init__(self, target: str) -> None:
        self._target = target
        self.lane: Lane | None = None

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
            return lane.roundtrip(payload, timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except BaseException:  # a deadline or an interrupt: the lane is out of step
            self.close()
            raise

    async def arequest(self, payload: bytes, timeout: float | None) -> bytes | None:
        """:meth:`request` on the running event loop."""
        lane = self.lane
        assert lane is not None
        try:
            if timeout is None:
                return await lane.aroundtrip(payload)
            return await asyncio.wait_for(lane.aroundtrip(payload), timeout)
        except LaneBroken as exc:
            self._fall_back(exc)
            return None
        except asyncio.TimeoutError as exc:
            self.close()
            raise foreign_error(exc, f"request to {self._target}", timeout=timeout) from exc
        except BaseException:
            self.close()
            raise

    def _fall_back(self, exc: BaseException) -> None:
        logger.info("the lane to %s broke (%s): going on through gRPC", self._target, exc)
        self.close()

    def close(self) -> None:
        """Close the lane (idempotent); later requests go through gRPC."""
        lane, self.lane = self.lane, None
        if lane is not None:
            lane.close()
