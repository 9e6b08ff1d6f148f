"""The servers of every EnvCluster running on a Ray cluster, found by their actor names."""

from __future__ import annotations

from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from remote_gym.ray.spawn import NAMESPACE

_PROBE_S = 5.0


def running_servers() -> list[dict[str, Any]]:
    """One dict per server actor in the ``remote-gym`` namespace: ``name``, ``state`` and its record.

    Needs a connected Ray driver (``ray.init(address=...)``).
    """
    names = sorted(
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == NAMESPACE
    )
    rows = []
    for name in names:
        row: dict[str, Any] = {"name": name, "state": "ALIVE", "address": None, "node_id": None}
        try:
            actor = ray.get_actor(name, namespace=NAMESPACE)
            record: dict[str, Any] = ray.get(actor.record.remote(), timeout=_PROBE_S)  # type: ignore[assignment]
            row.update(address=record["address"], node_id=record["node_id"], error=record["error"])
        except (GetTimeoutError, RayActorError, ValueError):
            row["state"] = "UNREACHABLE"
        rows.append(row)
    return rows
