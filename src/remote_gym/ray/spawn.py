"""Spawn server actors in a placement group of their own, and wait until every one serves."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.placement_group import remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from remote_gym.errors import ServerStartError
from remote_gym.ray.actor import ServerActor
from remote_gym.ray.health import serving
from remote_gym.ray.hub import HubLink
from remote_gym.ray.placement import actor_resources, new_group
from remote_gym.ray.records import ServerHandle
from remote_gym.ray.spec import ServerSpec, server_runtime_env
from remote_gym.transport.tls import TLSConfig

NAMESPACE = "remote-gym"
"""Ray namespace of every server actor (``remote-gym ray status`` lists it)."""


def spawn_servers(
    spec: ServerSpec,
    *,
    cluster: str,
    numbers: Sequence[int],
    bundle: Mapping[str, float],
    strategy: str,
    max_restarts: int,
    timeout: float,
    hub: HubLink | None = None,
) -> list[ServerHandle]:
    """Place a new group of ``len(numbers)`` bundles and create one server actor in each, named
    ``{cluster}/server-{number}``; they start in the background (:func:`wait_until_serving` waits).
    With ``hub``, the servers dial that hub instead of listening.

    Raises:
        ServerStartError: The placement group could not be placed within ``timeout`` seconds.
    """
    group = new_group(bundle, len(numbers), strategy)
    if not group.wait(timeout):
        remove_placement_group(group)
        free = ray.available_resources()  # type: ignore[no-untyped-call]
        raise ServerStartError(
            f"{len(numbers)} servers of {dict(bundle)} ({strategy}) could not be placed within "
            f"{timeout} s; the cluster has {free} free",
            node_id=None,
            cause="resources",
        )
    actor_class = ray.remote(ServerActor)
    new: list[ServerHandle] = []
    for bundle_index, number in enumerate(numbers):
        actor = actor_class.options(
            name=f"{cluster}/server-{number}",
            namespace=NAMESPACE,
            max_restarts=max_restarts,
            scheduling_strategy=PlacementGroupSchedulingStrategy(group, bundle_index),
            runtime_env=server_runtime_env(),
            **actor_resources(bundle),
        ).remote(spec, cluster, hub, number)
        new.append(ServerHandle(actor, group, {"pid": None, "node_id": None, "address": None}))
    return new


def wait_until_serving(
    servers: Sequence[ServerHandle], *, first_index: int, client_tls: TLSConfig | None, deadline: float
) -> None:
    """Wait until each new server has started (its record noted) and answers health checks.

    ``first_index`` is the cluster's index of ``servers[0]``; ``deadline`` is on ``time.monotonic()``.

    Raises:
        ServerStartError: A server could not start, or did not serve by ``deadline`` (names node and cause).
    """
    note_records(servers, first_index=first_index, deadline=deadline)
    for server in servers:
        address = str(server.record["address"])
        reason = serving(address, client_tls, timeout=max(0.1, deadline - time.monotonic()))
        if reason is not None:
            node = server.record["node_id"]
            raise ServerStartError(
                f"server at {address} on node {node} does not answer health checks: {reason}",
                node_id=node,
                cause=reason,
            )


def note_records(servers: Sequence[ServerHandle], *, first_index: int, deadline: float) -> None:
    """Wait until each new server has started, and note its record.

    Raises:
        ServerStartError: A server could not start, or did not by ``deadline`` (names node and cause).
    """
    for offset, server in enumerate(servers):
        server.record = _first_record(first_index + offset, server, deadline)


def raise_start_error(index: int, record: Mapping[str, Any]) -> None:
    """Raise the error a server's record reports, if any.

    Raises:
        ServerStartError: Server ``index`` could not start (names its node and the cause).
    """
    if record["error"]:
        raise ServerStartError(
            f"server {index} could not start on node {record['node_id']} ({record['hostname']}, "
            f"{record['node_ip']}): {record['error']}",
            node_id=record["node_id"],
            cause=record["error"],
        )


def _first_record(index: int, server: ServerHandle, deadline: float) -> dict[str, Any]:
    try:
        record: dict[str, Any] = ray.get(
            server.actor.record.remote(), timeout=max(0.1, deadline - time.monotonic())
        )
    except GetTimeoutError as exc:
        raise ServerStartError(
            f"server {index} did not start in time", node_id=None, cause="timeout"
        ) from exc
    except RayActorError as exc:
        raise ServerStartError(
            f"server {index} could not start: {exc}", node_id=None, cause=str(exc)
        ) from exc
    raise_start_error(index, record)
    return record
