"""examples/ray_cluster.py runs on the shared local Ray cluster and prints its table."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from ray.cluster_utils import Cluster

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "examples" / "ray_cluster.py"


def test_ray_cluster_example(ray_cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    """The example launches 2 servers on 2 nodes, steps 16 envs and tabulates them per server."""
    spec = importlib.util.spec_from_file_location("example_ray_cluster", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.main(["--steps", "40"])
    assert table.row_count == 2
    out = capsys.readouterr().out
    assert "16 CartPole envs on 2 Ray-launched servers" in out
    assert "env-steps/s" in out
