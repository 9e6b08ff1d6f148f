"""Environment kwargs are bounded before they are parsed, and large allowed ones reach the worker whole."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from remote_gym import RemoteEnvironment
from remote_gym.errors import RemoteEnvError, ServerBusyError
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

_HOSTED = {"Dict": {"gym_id": IMPORTABLE_ENV_IDS["DictSpaces"], "allowed_kwargs": "*"}}


def test_oversize_kwargs_are_refused_with_a_typed_error() -> None:
    """Kwargs over max_kwargs_bytes are refused with ServerBusyError naming the limit."""
    with running_server(_HOSTED, hosting="inline", max_kwargs_bytes=1024) as server:
        with pytest.raises(ServerBusyError, match=r"over this server's limit of 1024 bytes"):
            RemoteEnvironment(address=server.address, kwargs={"padding": "x" * 2000})
        assert server.active_sessions == 0


_FLOOD_SCRIPT = """
import sys
from remote_gym import RemoteEnvironment
for _ in range(3):
    try:
        RemoteEnvironment(address=sys.argv[1], kwargs={"padding": "x" * 20_000_000})
    except Exception as exc:
        print(type(exc).__name__, flush=True)
"""


def _worst_step_while(
    neighbour: RemoteEnvironment, running: subprocess.Popen[str] | None, steps: int
) -> float:
    """The neighbour's slowest step, over ``steps`` steps or for as long as ``running`` runs."""
    worst = 0.0
    done = 0
    while (running.poll() is None) if running is not None else done < steps:
        start = time.perf_counter()
        neighbour.step(neighbour.action_space.sample())
        worst = max(worst, time.perf_counter() - start)
        done += 1
    return worst


def test_huge_kwargs_do_not_stall_other_sessions() -> None:
    """Three 20 MB make requests from another process are refused without stalling a neighbour's steps.

    Their worst step is compared with their worst over as many steps without the flood (this machine
    may be loaded); refusing after parsing 20 MB of JSON on the server's loop cost a neighbour ~1.2 s.
    """
    with (
        running_server(_HOSTED, hosting="process") as server,
        RemoteEnvironment(address=server.address) as neighbour,
    ):
        neighbour.reset(seed=0)
        with subprocess.Popen(
            [sys.executable, "-c", _FLOOD_SCRIPT, server.address], stdout=subprocess.PIPE, text=True
        ) as flood:
            worst = _worst_step_while(neighbour, flood, 0)
            out = flood.stdout.read() if flood.stdout else ""
        baseline = _worst_step_while(neighbour, None, 2000)
    assert out.split() == ["ServerBusyError"] * 3
    assert worst < max(0.25, 3 * baseline), f"a neighbour's step took {worst:.3f} s (alone: {baseline:.3f} s)"


def test_large_allowed_kwargs_reach_the_worker() -> None:
    """Kwargs larger than a datagram (here ~300 kB, allowed by a raised limit) create the env in a worker."""
    with running_server(_HOSTED, hosting="process", max_kwargs_bytes=1 << 20) as server:
        # The env does not take that kwarg: its constructor's own TypeError comes back from the worker.
        with pytest.raises(RemoteEnvError, match="padding") as info:
            RemoteEnvironment(address=server.address, kwargs={"padding": "x" * 300_000})
        assert info.value.remote_type == "builtins.TypeError"
