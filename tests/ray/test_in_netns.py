"""Run the Ray tests in a fresh network namespace that has only loopback, where Ray uses 127.0.0.1."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from tests.ray.conftest import IN_NETNS_ENV

INNER = pathlib.Path(__file__).resolve().parent / "netns"
INNER_TIMEOUT_S = 420

# Ray on Linux picks a non-loopback interface for its own traffic when the machine has one; a
# namespace with only `lo` keeps every socket of these tests on 127.0.0.1.
_ENTER = 'ip link set lo up && exec "$0" -m pytest "$@"'


def _unshare_refusal() -> str | None:
    """Why a network namespace cannot be made here, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces exist only on Linux"
    try:
        probe = subprocess.run(
            ["unshare", "--net", "--", "sh", "-c", "ip link set lo up"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare/ip are not usable: {exc}"
    if probe.returncode != 0:
        return f"cannot create a network namespace (unshare --net needs root): {probe.stderr.strip()}"
    return None


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(INNER_TIMEOUT_S + 30)
def test_ray_suite_in_network_namespace() -> None:
    """Every test in tests/ray/netns passes inside a fresh network namespace with only loopback."""
    if os.environ.get(IN_NETNS_ENV):
        pytest.skip("already inside the network namespace")
    refusal = _unshare_refusal()
    if refusal:
        pytest.skip(f"Ray tests need a loopback-only network namespace: {refusal}")
    env = {**os.environ, IN_NETNS_ENV: "1", "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    args = [str(INNER), "-q", "-p", "no:cacheprovider", "-o", "addopts=--strict-markers -ra"]
    try:
        proc = subprocess.run(
            ["unshare", "--net", "--", "sh", "-c", _ENTER, sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=INNER_TIMEOUT_S,
            env=env,
            cwd=INNER.parents[2],
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the Ray tests took longer than {INNER_TIMEOUT_S} s:\n{exc.stdout or ''}")
    print(proc.stdout[-20000:])
    assert proc.returncode == 0, f"Ray tests failed:\n{proc.stdout[-15000:]}\n{proc.stderr[-5000:]}"
