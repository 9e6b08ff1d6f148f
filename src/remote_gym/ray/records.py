"""What the driver knows of each server of an EnvCluster: its public record and its actor."""

from __future__ import annotations

import dataclasses
from typing import Any

from ray.util.placement_group import PlacementGroup


@dataclasses.dataclass(frozen=True)
class ServerRecord:
    """One server of an :class:`EnvCluster`, as last seen."""

    index: int
    node_id: str | None
    address: str | None
    state: str
    """``"ALIVE"`` (answered now), ``"RESTARTING"`` (not answering: Ray is restarting it) or ``"DEAD"``."""
    restarts: int
    """Restarts this EnvCluster has seen (a new process or node behind the same server)."""


@dataclasses.dataclass
class ServerHandle:
    """One server as its EnvCluster holds it: actor, placement group, last record, restarts seen."""

    actor: Any
    group: PlacementGroup
    record: dict[str, Any]
    restarts: int = 0

    def update(self, record: dict[str, Any]) -> None:
        """Take a newer record; a new pid or node counts as a restart."""
        if (record["pid"], record["node_id"]) != (self.record["pid"], self.record["node_id"]):
            self.restarts += 1
        self.record = record
