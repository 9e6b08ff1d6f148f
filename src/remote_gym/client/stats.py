"""Read a server's figures and open sessions over gRPC (``GetStats``), for ``remote-gym top`` and scripts."""

from __future__ import annotations

import asyncio
from types import TracebackType

import grpc

from remote_gym._constants import DEFAULT_CONNECT_TIMEOUT_S
from remote_gym.client.channel import SERVICE, fetch_server_info, open_channel, split_address
from remote_gym.client.config import ClientConfig
from remote_gym.errors import InvalidCallError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.status import map_errors
from remote_gym.transport.tls import TLSConfig

STATS_METHOD = f"/{SERVICE}/GetStats"


class StatsClient:
    """A connection to a server for reading its figures again and again (it opens no session).

    Example:
        >>> with StatsClient("127.0.0.1:56765") as stats:  # doctest: +SKIP
        ...     print(stats.fetch().totals.steps)
    """

    def __init__(
        self,
        address: str,
        *,
        tls: TLSConfig | None = None,
        token: str | TokenAuth | None = None,
        timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        """Connect to ``address`` (``"host:port"``).

        Raises:
            ConnectError: The server could not be reached within ``timeout``.
            AuthenticationError: The server refused this client's certificate or token.
        """
        self._host, self._port = split_address(address)
        self._tls = tls
        auth = TokenAuth(token) if isinstance(token, str) else token
        self._metadata = auth.metadata() if auth is not None else None
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        try:
            self._channel = self._loop.run_until_complete(self._open())
        except BaseException:
            self._loop.close()
            raise
        self._call = self._channel.unary_unary(
            STATS_METHOD,
            request_serializer=pb.StatsRequest.SerializeToString,
            response_deserializer=pb.ServerStats.FromString,
        )

    async def _open(self) -> grpc.aio.Channel:
        channel = open_channel(self._host, self._port, self._tls, ClientConfig())
        try:
            await fetch_server_info(
                channel,
                host=self._host,
                port=self._port,
                tls=self._tls,
                metadata=self._metadata,
                timeout=self._timeout,
            )
        except BaseException:
            await channel.close()
            raise
        return channel

    def fetch(self) -> pb.ServerStats:
        """The server's figures now.

        Raises:
            InvalidCallError: The server runs with ``monitoring=False``.
            RemoteGymError: The call failed (mapped from its gRPC status).
        """
        with map_errors("GetStats"):
            stats = self._loop.run_until_complete(self._fetch())
        if not stats.monitoring:
            raise InvalidCallError(f"the server at {self._host}:{self._port} runs with monitoring off")
        return stats

    async def _fetch(self) -> pb.ServerStats:
        # The call is made on the running loop: outside it, gRPC would look for this thread's
        # current event loop, which the caller may have unset.
        stats: pb.ServerStats = await self._call(
            pb.StatsRequest(), timeout=self._timeout, metadata=self._metadata
        )
        return stats

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._channel.close())
            self._loop.close()

    def __enter__(self) -> StatsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
