"""Restart mode: re-creating the session of a vector env's failed host, and its part of the result then.

What the re-created host's sub-envs answer is :mod:`remote_gym.vector.restarts`'s (as a server's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, create_empty_array

from remote_gym.client.config import Timeouts
from remote_gym.client.vector_hosts import VectorHost, exchange, reopen
from remote_gym.codec.requests import reset_request
from remote_gym.codec.vector import decode_reset
from remote_gym.errors import (
    ConnectError,
    ProtocolError,
    RemoteGymError,
    ServerShutdownError,
    TransportError,
    WorkerCrashedError,
)
from remote_gym.vector.infos import host_infos
from remote_gym.vector.parts import VectorParts
from remote_gym.vector.restarts import StepPart, restart_infos, same_step_part, truncated_part

Resolver = Callable[[int, str], str]
"""``resolver(host_index, lost_address)`` -> the ``"host:port"`` of the server that replaces a lost one."""


def recovery_address(
    index: int,
    host: VectorHost,
    error: RemoteGymError,
    *,
    restart: bool,
    resolver: Resolver | None,
    elsewhere: Resolver | None = None,
) -> str | None:
    """Where to re-create a failed host's sub-envs in restart mode: None for its own server (a worker
    died), the resolver's answer when the server itself was lost (its stream broke for good or it
    cannot be reached), or when it is draining or shutting down (then ``elsewhere`` answers when there
    is no resolver: another server of the vector env).

    Raises:
        RemoteGymError: ``error`` itself when it cannot be recovered from (not restart mode, an env's
            own error, or a lost server without a resolver); the resolver's error, chained to it.
    """
    if restart and isinstance(error, WorkerCrashedError):
        return None
    lost = isinstance(error, TransportError) and not isinstance(error, ProtocolError)
    if isinstance(error, ServerShutdownError):  # draining (a rolling upgrade) or stopping: go elsewhere
        lost, resolver = True, resolver or elsewhere
    if restart and resolver is not None and lost:
        try:
            return resolver(index, host.target)
        except RemoteGymError as exc:
            raise exc from error
    raise error


def reopen_host(
    host: VectorHost, cause: RemoteGymError, *, timeouts: Timeouts, address: str | None = None
) -> None:
    """Give ``host`` a new session (same request) after its worker or server died; failures chain to ``cause``.

    ``address`` is the server to move to when the old one was lost (None: the same server).
    """
    try:
        reopen(host, timeout=timeouts.make, address=address)
    except RemoteGymError as exc:
        raise exc from cause


def restart_host(
    host: VectorHost,
    cause: RemoteGymError,
    *,
    mode: AutoresetMode,
    space: spaces.Space[Any],
    last_obs: Any,
    timeouts: Timeouts,
    address: str | None = None,
) -> StepPart:
    """Re-create the session of a host whose worker died; this step ends its sub-envs' episodes.

    Args:
        host: The host; its connection is replaced, and (NEXT_STEP) ``pending_reset`` set.
        cause: The worker's death (or the loss of the server).
        mode: The vector env's autoreset mode.
        space: The single observation space.
        last_obs: The host's last observations (its part of the batch), or None before any.
        timeouts: The vector env's timeouts.
        address: The server to re-create the session on, when the old one was lost.

    Returns:
        The host's part of this step's result.
    """
    reopen_host(host, cause, timeouts=timeouts, address=address)
    reason = f"{type(cause).__name__}: {cause.message}"
    if last_obs is None:
        last_obs = create_empty_array(space, host.size)
    if mode is AutoresetMode.SAME_STEP:
        reply = exchange([host], [reset_request(None, None)], timeout=timeouts.call, what="reset on")[0]
        reset_obs, reset_infos = decode_reset(reply.reset)
        return same_step_part(
            batch_space(space, host.size),
            host.size,
            last_obs,
            reset_obs,
            host_infos(reset_infos, host.size),
            reason,
        )
    # NEXT_STEP: the fresh envs are reset on the next step; DISABLED: the user resets them.
    host.pending_reset = mode is AutoresetMode.NEXT_STEP
    return truncated_part(last_obs, host.size, restart_infos(host.size, reason))


@dataclass(frozen=True)
class HostRecovery:
    """What a vector env does when a host's call fails: raise the error, or re-create the host's session.

    In restart mode the session is re-created on the same server after its worker died, or, when the
    server itself was lost, on the one ``resolver`` names (see :func:`recovery_address`); a server that
    drains or shuts down hands its sub-envs to ``resolver``, else to another of the env's servers.
    """

    restart: bool
    """``on_env_failure="restart"``; otherwise every failure is raised."""
    resolver: Resolver | None
    timeouts: Timeouts
    addresses: tuple[str, ...] = ()
    """The vector env's servers, for sub-envs whose server drains and no resolver."""

    def _address(self, index: int, host: VectorHost, error: RemoteGymError) -> str | None:
        return recovery_address(
            index, host, error, restart=self.restart, resolver=self.resolver, elsewhere=self._elsewhere
        )

    def _elsewhere(self, index: int, leaving: str) -> str:
        """Another of the vector env's servers than ``leaving`` (the next one in the list)."""
        others = [a for a in dict.fromkeys(self.addresses) if a != leaving]
        if not others:
            raise ConnectError(f"{leaving} is draining and the vector env has no other server to move to")
        return others[index % len(others)]

    def reopen(self, index: int, host: VectorHost, error: RemoteGymError) -> None:
        """Give host ``index`` a new session after ``error`` (the new session resets all its sub-envs).

        Raises:
            RemoteGymError: ``error`` when it cannot be recovered from; a failure to reopen, chained to it.
        """
        address = self._address(index, host, error)
        reopen_host(host, error, timeouts=self.timeouts, address=address)

    def recover_step(
        self, index: int, host: VectorHost, error: RemoteGymError, parts: VectorParts
    ) -> StepPart:
        """Host ``index``'s share of a step that failed with ``error``, made up after re-creating its session.

        Raises:
            RemoteGymError: ``error`` when it cannot be recovered from (see :meth:`reopen`).
        """
        address = self._address(index, host, error)
        return restart_host(
            host,
            error,
            mode=parts.autoreset_mode,
            space=parts.space,
            last_obs=parts.last_obs[index],
            timeouts=self.timeouts,
            address=address,
        )
