"""Reset and step a RemoteVectorEnv's hosts: one request for each, sent together, and each host's part back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymnasium import spaces

from remote_gym.client.vector_hosts import VectorHost, exchange, exchange_each
from remote_gym.client.vector_recovery import HostRecovery
from remote_gym.codec.requests import reset_request, step_request
from remote_gym.codec.vector import InfoCalls, decode_reset, decode_step
from remote_gym.errors import RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.vector.infos import host_infos
from remote_gym.vector.parts import ResetPlan, VectorParts
from remote_gym.vector.restarts import StepPart, reset_as_step
from remote_gym.vector.splits import split_batch


def reset_hosts(
    hosts: Sequence[VectorHost], plan: ResetPlan, recovery: HostRecovery, *, timeout: float | None
) -> tuple[dict[int, Any], list[dict[str, Any] | InfoCalls | None]]:
    """Reset the hosts ``plan`` marks active, all at once: their observations and infos, by host index.

    A host whose reset failed gets a new session (restart mode), which is then reset. Hosts left
    out have None as their infos.

    Raises:
        RemoteGymError: A host failed and could not be recovered (the error names it).
    """
    indices, requests = [], []
    for i, host in enumerate(hosts):
        if not plan.active[i]:
            continue  # SyncVectorEnv refuses an all-False mask; this host's envs stay as they are
        # A re-created session resets all its envs.
        host_options = plan.shared_options if host.pending_reset else plan.options[i]
        indices.append(i)
        requests.append(reset_request(plan.seeds[i], host_options))
    active = [hosts[i] for i in indices]
    results = exchange_each(active, requests, timeout=timeout, what="reset on")
    infos: list[dict[str, Any] | InfoCalls | None] = [None] * len(hosts)
    observations: dict[int, Any] = {}
    for i, host, result in zip(indices, active, results, strict=True):
        if isinstance(result, RemoteGymError):
            recovery.reopen(i, host, result)  # resets all its envs
            request = reset_request(plan.seeds[i], plan.shared_options)
            result = exchange([host], [request], timeout=timeout, what="reset on")[0]
        host.pending_reset = False
        observations[i], infos[i] = decode_reset(result.reset)
    return observations, infos


def step_hosts(
    hosts: Sequence[VectorHost],
    actions: Any,
    action_space: spaces.Space[Any],
    parts: VectorParts,
    recovery: HostRecovery,
    *,
    timeout: float | None,
) -> list[StepPart]:
    """Step every host with its share of ``actions``, all at once; each host's part of the result.

    A re-created session that awaits its reset (NEXT_STEP) is reset instead, its part that of an
    autoreset step. A host whose worker died is recovered as :meth:`HostRecovery.recover_step` says.
    Each part's observations are noted in ``parts.last_obs``.

    Raises:
        RemoteGymError: A host failed and could not be recovered (the error names it).
    """
    requests = []
    for host in hosts:
        if host.pending_reset:
            requests.append(reset_request(None, None))
            continue
        part = actions if len(hosts) == 1 else split_batch(action_space, actions, host.offset, host.stop)
        requests.append(step_request(part, path="actions"))
    results = exchange_each(hosts, requests, timeout=timeout, what="step on")
    step_parts = []
    for i, (host, result) in enumerate(zip(hosts, results, strict=True)):
        if isinstance(result, RemoteGymError):
            step_part = recovery.recover_step(i, host, result, parts)
        else:
            step_part = decode_step_part(host, result)
        parts.last_obs[i] = step_part[0]
        step_parts.append(step_part)
    return step_parts


def decode_step_part(host: VectorHost, result: pb.Response) -> StepPart:
    """A host's share of a step, decoded: its step reply, or (a re-created session) its deferred reset."""
    if host.pending_reset:  # the request was the deferred autoreset of a re-created session
        host.pending_reset = False
        obs, infos = decode_reset(result.reset)
        return reset_as_step(obs, host_infos(infos, host.size), host.size)
    return decode_step(result.step)
