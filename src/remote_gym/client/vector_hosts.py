"""The hosts of a RemoteVectorEnv: concurrent connects, send-to-all-then-gather exchanges, error attribution."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from remote_gym.client import runtime
from remote_gym.client.config import ClientConfig
from remote_gym.client.connection import Connection, request_all, split_address
from remote_gym.codec.spaces import decode_space
from remote_gym.errors import (
    ConfigError,
    ProtocolError,
    RemoteEnvError,
    RemoteGymError,
    ServerError,
    TransportError,
    WorkerCrashedError,
)
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.status import foreign_error
from remote_gym.transport.tls import TLSConfig
from remote_gym.vector.splits import offsets_of

logger = logging.getLogger(__name__)


@dataclass
class VectorHost:
    """One server of a vector env and the sub-envs it holds: global indices ``offset .. offset + size - 1``."""

    connection: Connection
    offset: int
    size: int
    make: pb.Request
    """The request that created the session, to create it again after a worker died."""
    auth: TokenAuth | None = None
    """The host's bearer token, to connect again after a worker died."""
    pending_reset: bool = False
    """The session was re-created (NEXT_STEP) and its sub-envs reset on the next step."""

    @property
    def target(self) -> str:
        """``host:port`` of the server."""
        return self.connection.target

    @property
    def stop(self) -> int:
        """One past the last global index held by this host."""
        return self.offset + self.size


def agreed_spaces(hosts: Sequence[VectorHost], replies: Sequence[pb.MakeResponse]) -> tuple[Any, Any]:
    """The single-env observation and action spaces every host reported, after checking they agree.

    Raises:
        ProtocolError: A host has other spaces than the first, or made another number of sub-envs.
    """
    observation_space = decode_space(replies[0].observation_space)
    action_space = decode_space(replies[0].action_space)
    for host, reply in zip(hosts[1:], replies[1:], strict=True):
        if (
            decode_space(reply.observation_space) != observation_space
            or decode_space(reply.action_space) != action_space
        ):
            raise ProtocolError(
                f"{host.target} hosts {reply.env_name!r} with other spaces than {hosts[0].target}"
            )
    for host, reply in zip(hosts, replies, strict=True):
        if reply.num_envs != host.size:
            raise ProtocolError(f"{host.target} created {reply.num_envs} sub-envs, not {host.size}")
    return observation_space, action_space


def check_pool_spaces(hosts: Sequence[VectorHost], replies: Sequence[pb.MakeResponse]) -> None:
    """A mixed pool's groups must have equal spaces: refuse the first that differs from group 0.

    Raises:
        ConfigError: Names the group, its env and server, which space differs, and both spaces.
    """
    first = [decode_space(replies[0].observation_space), decode_space(replies[0].action_space)]
    for i, (host, reply) in enumerate(zip(hosts, replies, strict=True)):
        spaces = [decode_space(reply.observation_space), decode_space(reply.action_space)]
        for which, mine, theirs in zip(("observation", "action"), spaces, first, strict=True):
            if mine != theirs:
                raise ConfigError(
                    f"envs[{i}] ({reply.env_name!r} on {host.target}) has the {which} space {mine}, "
                    f"envs[0] ({replies[0].env_name!r}) has {theirs}: a pool's sub-envs need equal spaces"
                )


def connect_all(
    addresses: Sequence[str],
    tls: Sequence[TLSConfig | None],
    auth: Sequence[TokenAuth | None],
    config: ClientConfig,
) -> list[Connection]:
    """Open one connection per address; on any failure close the ones already open and raise.

    The connections are opened one after the other and share one client event loop, which is what
    lets :func:`exchange` drive all hosts at once. Each connect is bounded by ``config.timeouts.connect``.

    Raises:
        ConnectError: A server could not be reached within ``config.timeouts.connect`` (names it).
    """
    connections: list[Connection] = []
    driver = runtime.new_driver(config.spin_us)  # one loop for all hosts: exchange() waits on them together
    try:
        for address, host_tls, host_auth in zip(addresses, tls, auth, strict=True):
            host, port = split_address(address)
            connections.append(
                Connection(host, port, tls=host_tls, config=config, auth=host_auth, driver=driver)
            )
    except BaseException:
        for connection in connections:
            connection.close()
        raise
    return connections


def open_hosts(
    addresses: Sequence[str],
    sizes: Sequence[int],
    makes: Sequence[pb.Request],
    tls: Sequence[TLSConfig | None],
    auth: Sequence[TokenAuth | None],
    config: ClientConfig,
) -> list[VectorHost]:
    """Connect to every address (see :func:`connect_all`); host ``i`` holds ``sizes[i]`` sub-envs, made by ``makes[i]``."""
    connections = connect_all(addresses, tls, auth, config)
    return [
        VectorHost(connection, offset, size, make, host_auth)
        for connection, offset, size, make, host_auth in zip(
            connections, offsets_of(sizes), sizes, makes, auth, strict=True
        )
    ]


def exchange(
    hosts: Sequence[VectorHost], requests: Sequence[pb.Request], *, timeout: float | None, what: str
) -> list[pb.Response]:
    """Send each host its request, then gather every reply: K hosts work concurrently.

    Raises:
        TransportError: A host could not answer (unreachable, deadline, stream lost).
        ServerError: A host answered with an error (RemoteEnvError, WorkerCrashedError, ...).
        The error is that of the first failing host (in host order), as :func:`attribute_error` names it.
    """
    results = exchange_each(hosts, requests, timeout=timeout, what=what)
    errors = [result for result in results if isinstance(result, RemoteGymError)]
    if errors:
        for other in errors[1:]:  # one is raised; the others must not vanish
            logger.warning("%s also failed: %s", what.removesuffix(" on"), other)
        raise errors[0]
    return results  # type: ignore[return-value]


def exchange_each(
    hosts: Sequence[VectorHost], requests: Sequence[pb.Request], *, timeout: float | None, what: str
) -> list[pb.Response | RemoteGymError]:
    """Like :func:`exchange`, but returns each host's response or (attributed) error.

    Every host has its own deadline of ``timeout`` seconds (``config.timeouts.call`` when None); a
    host that misses it, or whose stream breaks, has its session marked broken (see
    :func:`~remote_gym.client.connection.request_all`).
    """
    if len(hosts) == 1:  # the plain path: no gather machinery
        host = hosts[0]
        try:
            return [host.connection.request(requests[0], timeout=timeout, what=what)]
        except RemoteGymError as exc:
            return [attribute_error(host, exc)]
    results = request_all([host.connection for host in hosts], requests, timeout=timeout, what=what)
    return [
        attribute_error(host, result) if isinstance(result, RemoteGymError) else result
        for host, result in zip(hosts, results, strict=True)
    ]


def reopen(host: VectorHost, *, timeout: float | None, address: str | None = None) -> pb.MakeResponse:
    """Replace the host's (broken) session by a new one, made with the same request.

    ``address`` (``"host:port"``) moves the host to another server (its old one was lost).

    Raises:
        ConnectError, ServerError: The server could not be reached or could not create the envs.
    """
    old = host.connection
    new_host, new_port = split_address(address) if address else (old.host, old.port)
    # The new connection joins the old one's event loop before the old one lets go of it (the last
    # connection on a loop closes it), so the vector env still waits on all its hosts together.
    try:
        connection = Connection(
            new_host, new_port, tls=old.tls, config=old.config, auth=host.auth, driver=old.driver
        )
    finally:
        old.close()
    try:
        reply = connection.request(host.make, timeout=timeout, what="re-creating envs on").make
    except BaseException:
        connection.close()
        raise
    if reply.num_envs != host.size:
        connection.close()
        raise ProtocolError(f"{old.target} re-created {reply.num_envs} sub-envs, not {host.size}")
    host.connection = connection
    return reply


def attribute_error(host: VectorHost, exc: RemoteGymError) -> RemoteGymError:
    """The same error, naming the host and (for sub-env failures) the global sub-env indices.

    Adds the attributes ``host`` (``"host:port"``) and, for sub-env failures, ``env_index`` (the
    global index of the failing sub-env) or ``env_indices`` (every sub-env a dead worker held).
    """
    attrs: dict[str, Any] = dict(getattr(exc, "_attrs", {}))
    attrs["host"] = host.target
    message = exc.message
    if isinstance(exc, RemoteEnvError) and exc.sub_env_index is not None:
        local = exc.sub_env_index
        attrs["env_index"] = host.offset + local
        where = f"on {host.target}" if host.offset == 0 else f"on {host.target}, its sub-env {local}"
        message = f"sub-env {host.offset + local} ({where}) {message}"
    elif isinstance(exc, WorkerCrashedError):
        attrs["env_indices"] = tuple(range(host.offset, host.stop))
        message = f"{message} (it held sub-envs {host.offset}..{host.stop - 1} on {host.target})"
    elif isinstance(exc, ServerError) or (isinstance(exc, TransportError) and host.target not in message):
        message = f"{host.target}: {message}"
    try:
        attributed = type(exc)(message, **attrs)
    except TypeError:  # a class of its own whose constructor differs: keep it as it is
        return exc
    attributed.__cause__, attributed.__context__ = exc.__cause__, exc.__context__
    attributed.__suppress_context__ = exc.__suppress_context__
    return attributed


async def request_on(
    connection: Connection, request: pb.Request, timeout: float | None, what: str
) -> pb.Response:
    """:meth:`Connection.request` as a coroutine on the connection's loop, for requests in flight together.

    Raises:
        RemoteGymError: As :meth:`Connection.request` (a failure in flight breaks the session).
    """
    connection.check_open()
    kind = request.WhichOneof("kind")
    payload = connection._prepare(request)
    try:
        reply = await connection._exchange(payload, timeout)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            raise
        error = foreign_error(exc, f"{what} {connection.target}", timeout=timeout)
        connection._mark_broken(error)
        raise error from exc
    return connection._parse_reply(reply, kind)
