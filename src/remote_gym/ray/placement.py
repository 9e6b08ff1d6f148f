"""Ray placement for env servers: per-server resources and the placement group that spreads them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.util.placement_group import PlacementGroup, placement_group

from remote_gym.errors import ConfigError

STRATEGIES = ("SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK")
DEFAULT_SERVER_RESOURCES: Mapping[str, Any] = {"num_cpus": 1}
_KNOWN = ("num_cpus", "num_gpus", "memory", "resources")


def bundle_of(resources: Mapping[str, Any]) -> dict[str, float]:
    """The placement-group bundle for one server, from Ray's actor options (``num_cpus``, ``resources``...).

    Raises:
        ConfigError: An unknown key, or a bundle that asks for nothing (Ray refuses empty bundles).
    """
    unknown = sorted(set(resources) - set(_KNOWN))
    if unknown:
        raise ConfigError(f"server_resources takes {', '.join(_KNOWN)}; got {', '.join(unknown)}")
    bundle: dict[str, float] = {}
    for key, ray_name in (("num_cpus", "CPU"), ("num_gpus", "GPU"), ("memory", "memory")):
        if resources.get(key):
            bundle[ray_name] = float(resources[key])
    bundle.update({name: float(amount) for name, amount in dict(resources.get("resources") or {}).items()})
    if not bundle:
        raise ConfigError("server_resources must ask for something (e.g. {'num_cpus': 1})")
    return bundle


def actor_resources(bundle: Mapping[str, float]) -> dict[str, Any]:
    """The actor options that use exactly its bundle."""
    options: dict[str, Any] = {
        "num_cpus": bundle.get("CPU", 0),
        "num_gpus": bundle.get("GPU", 0),
    }
    if "memory" in bundle:
        options["memory"] = bundle["memory"]
    custom = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}
    if custom:
        options["resources"] = custom
    return options


def new_group(bundle: Mapping[str, float], count: int, strategy: str) -> PlacementGroup:
    """A placement group of ``count`` copies of ``bundle``, placed with ``strategy``.

    Raises:
        ConfigError: An unknown strategy.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    group: PlacementGroup = placement_group([dict(bundle) for _ in range(count)], strategy=strategy)
    return group
