"""The benchmark scripts keep the package's module size: one script per figure, sharing common.py."""

from __future__ import annotations

import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
MAX_LINES = 350


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_no_benchmark_module_is_over_the_limit(path: pathlib.Path) -> None:
    """Like src/ (checked by the structure tool), no benchmarks module is over 350 lines."""
    assert len(path.read_text().splitlines()) <= MAX_LINES, f"{path.name}: split it (one script per figure)"


def test_the_single_env_figures_share_one_helper() -> None:
    """Each single-env script takes its rounds, servers and tables from common.py."""
    scripts = ["bench_floor.py", "bench_step.py", "bench_frames.py", "bench_clients.py", "bench_connect.py"]
    for name in scripts:
        assert "import common" in (BENCHMARKS / name).read_text(), name
