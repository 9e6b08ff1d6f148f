"""Restart mode: re-creating the session of a vector env's failed host, and stand-in step results for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, create_empty_array, iterate

from remote_gym.client.config import Timeouts
from remote_gym.client.vector_hosts import VectorHost, exchange, reopen
from remote_gym.codec.batch import InfoCalls
from remote_gym.codec.requests import reset_request
from remote_gym.codec.scatter import VectorParts
from remote_gym.codec.values import decode_value
from remote_gym.codec.vector import RESTART_REASON_KEY, RESTARTED_KEY, decode_host_info, decode_step
from remote_gym.errors import ProtocolError, RemoteGymError, TransportError, WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

# They follow what the server does when one sub-env fails in restart mode, for all of the host's
# sub-envs at once: the episode ends truncated with reward 0 and the last observation as its final one,
# ``info["env_restarted"]`` is True and ``info["env_restart_reason"]`` says why; the fresh envs are then
# reset as the autoreset mode prescribes (NEXT_STEP: on the next step; SAME_STEP: at once, the final
# observation and info going to ``final_obs``/``final_info``; DISABLED: by the user).

StepPart = tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any] | InfoCalls]
Resolver = Callable[[int, str], str]
"""``resolver(host_index, lost_address)`` -> the ``"host:port"`` of the server that replaces a lost one."""


def recovery_address(
    index: int, host: VectorHost, error: RemoteGymError, *, restart: bool, resolver: Resolver | None
) -> str | None:
    """Where to re-create a failed host's sub-envs in restart mode: None for its own server (a worker
    died), the resolver's answer when the server itself was lost (its stream broke for good or it
    cannot be reached).

    Raises:
        RemoteGymError: ``error`` itself when it cannot be recovered from (not restart mode, an env's
            own error, or a lost server without a resolver); the resolver's error, chained to it.
    """
    if restart and isinstance(error, WorkerCrashedError):
        return None
    lost = isinstance(error, TransportError) and not isinstance(error, ProtocolError)
    if restart and resolver is not None and lost:
        try:
            return resolver(index, host.target)
        except RemoteGymError as exc:
            raise exc from error
    raise error


def restart_infos(size: int, reason: str) -> dict[str, Any]:
    """The vectorised restart flags of ``size`` sub-envs that were all recreated for ``reason``."""
    reasons = np.empty(size, dtype=object)
    reasons[:] = [reason] * size
    return {
        RESTARTED_KEY: np.ones(size, dtype=np.bool_),
        f"_{RESTARTED_KEY}": np.ones(size, dtype=np.bool_),
        RESTART_REASON_KEY: reasons,
        f"_{RESTART_REASON_KEY}": np.ones(size, dtype=np.bool_),
    }


def truncated_part(last_obs: Any, size: int, infos: dict[str, Any]) -> StepPart:
    """A step in which all ``size`` sub-envs end truncated, with reward 0, on ``last_obs``."""
    return (
        last_obs,
        np.zeros(size, dtype=np.float64),
        np.zeros(size, dtype=np.bool_),
        np.ones(size, dtype=np.bool_),
        infos,
    )


def same_step_part(
    batch_space: spaces.Space[Any],
    size: int,
    last_obs: Any,
    reset_obs: Any,
    reset_infos: dict[str, Any],
    reason: str,
) -> StepPart:
    """SAME_STEP: truncated and already reset; the last observations and the flags become final ones."""
    finals = np.empty(size, dtype=object)
    for i, obs in enumerate(iterate(batch_space, last_obs)):
        finals[i] = obs
    infos: dict[str, Any] = {
        "final_obs": finals,
        "_final_obs": np.ones(size, dtype=np.bool_),
        "final_info": restart_infos(size, reason),
        "_final_info": np.ones(size, dtype=np.bool_),
        **reset_infos,
    }
    return truncated_part(reset_obs, size, infos)


def reset_as_step(reset_obs: Any, reset_infos: dict[str, Any], size: int) -> StepPart:
    """NEXT_STEP: the step after the restart resets the sub-envs (reward 0, not done), as autoreset does."""
    return (
        reset_obs,
        np.zeros(size, dtype=np.float64),
        np.zeros(size, dtype=np.bool_),
        np.zeros(size, dtype=np.bool_),
        reset_infos,
    )


def reopen_host(
    host: VectorHost, cause: RemoteGymError, *, timeouts: Timeouts, address: str | None = None
) -> None:
    """Give ``host`` a new session (same request) after its worker or server died; failures chain to ``cause``.

    ``address`` is the server to move to when the old one was lost (None: the same server).
    """
    try:
        reopen(host, timeout=max(timeouts.call or 0.0, timeouts.connect) or None, address=address)
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
        reply = exchange([host], [reset_request(None, None)], timeout=timeouts.call, what="reset on")[0].reset
        return same_step_part(
            batch_space(space, host.size),
            host.size,
            last_obs,
            decode_value(reply.observation),
            decode_host_info(reply, host.size),
            reason,
        )
    # NEXT_STEP: the fresh envs are reset on the next step; DISABLED: the user resets them.
    host.pending_reset = mode is AutoresetMode.NEXT_STEP
    return truncated_part(last_obs, host.size, restart_infos(host.size, reason))


def decode_step_part(host: VectorHost, result: pb.Response) -> StepPart:
    """A host's share of a step, decoded: its step reply, or (a re-created session) its deferred reset."""
    if host.pending_reset:  # the request was the deferred autoreset of a re-created session
        host.pending_reset = False
        reply = result.reset
        return reset_as_step(decode_value(reply.observation), decode_host_info(reply, host.size), host.size)
    return decode_step(result.step)


@dataclass(frozen=True)
class HostRecovery:
    """What a vector env does when a host's call fails: raise the error, or re-create the host's session.

    In restart mode the session is re-created on the same server after its worker died, or, when the
    server itself was lost, on the one ``resolver`` names (see :func:`recovery_address`).
    """

    restart: bool
    """``on_env_failure="restart"``; otherwise every failure is raised."""
    resolver: Resolver | None
    timeouts: Timeouts

    def reopen(self, index: int, host: VectorHost, error: RemoteGymError) -> None:
        """Give host ``index`` a new session after ``error`` (the new session resets all its sub-envs).

        Raises:
            RemoteGymError: ``error`` when it cannot be recovered from; a failure to reopen, chained to it.
        """
        address = recovery_address(index, host, error, restart=self.restart, resolver=self.resolver)
        reopen_host(host, error, timeouts=self.timeouts, address=address)

    def step_part(
        self, index: int, host: VectorHost, result: pb.Response | RemoteGymError, parts: VectorParts
    ) -> StepPart:
        """Host ``index``'s share of a step result, decoded (or made up after its worker died, in restart mode).

        Raises:
            RemoteGymError: The step failed and cannot be recovered from (see :meth:`reopen`).
        """
        if not isinstance(result, RemoteGymError):
            return decode_step_part(host, result)
        address = recovery_address(index, host, result, restart=self.restart, resolver=self.resolver)
        return restart_host(
            host,
            result,
            mode=parts.autoreset_mode,
            space=parts.space,
            last_obs=parts.last_obs[index],
            timeouts=self.timeouts,
            address=address,
        )
