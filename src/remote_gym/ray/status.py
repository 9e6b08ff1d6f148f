"""The servers of every EnvCluster running on a Ray cluster, found by their actor names."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from remote_gym.ray.spawn import NAMESPACE

_PROBE_S = 5.0

REMOVAL_S = 10.0
"""How long :func:`wait_removed` waits for Ray to forget a killed actor's name."""


def running_servers() -> list[dict[str, Any]]:
    """One dict per server actor in the ``remote-gym`` namespace: ``name``, ``state`` and its record.

    Needs a connected Ray driver (``ray.init(address=...)``).
    """
    rows = []
    for name in sorted(_actor_names()):
        row: dict[str, Any] = {"name": name, "state": "ALIVE", "address": None, "node_id": None}
        try:
            actor = ray.get_actor(name, namespace=NAMESPACE)
            record: dict[str, Any] = ray.get(actor.record.remote(), timeout=_PROBE_S)  # type: ignore[assignment]
            row.update(address=record["address"], node_id=record["node_id"], error=record["error"])
        except (GetTimeoutError, RayActorError, ValueError):
            row["state"] = "UNREACHABLE"
        rows.append(row)
    return rows


def wait_removed(prefix: str, timeout: float = REMOVAL_S) -> bool:
    """Wait until no actor of the ``remote-gym`` namespace has a name starting with ``prefix``.

    ``ray.kill`` returns before Ray has marked the actor dead and dropped its name: until then it is
    still listed (by :func:`running_servers` too). Returns whether none is left by ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if not any(name.startswith(prefix) for name in _actor_names()):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _actor_names() -> list[str]:
    """The names of the actors Ray lists in the ``remote-gym`` namespace."""
    return [
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == NAMESPACE
    ]
