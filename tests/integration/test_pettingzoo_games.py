"""PettingZoo's classic and butterfly games served remotely: its own tests, and trajectories equal to local.

They need the ``pettingzoo-games`` extra (pygame-ce, pymunk, chess), which installs over the dev
group's pygame: run them from an environment of their own (docs/guides/pettingzoo.md).
"""

from __future__ import annotations

import importlib.util
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pettingzoo = pytest.importorskip("pettingzoo")
if importlib.util.find_spec("pymunk") is None or importlib.util.find_spec("chess") is None:
    pytest.skip(
        "needs the pettingzoo-games extra (pygame-ce, pymunk, chess), which conflicts with the dev "
        "group's pygame: uv sync --no-dev --extra pettingzoo-games in a copy of its own",
        allow_module_level=True,
    )

from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test, seed_test  # noqa: E402

from remote_gym.pettingzoo import RemoteAECEnv, RemoteParallelEnv  # noqa: E402
from remote_gym.testing.agent_checks import assert_aec_trajectories_equal, assert_parallel_trajectories_equal  # noqa: E402
from remote_gym.testing.server import running_server  # noqa: E402

# The games' own advice (cooperative_pong warns that it renders without a render mode) is not ours to fail on.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

CLASSIC = ("classic/connect_four-v3", "classic/tictactoe-v3", "classic/chess-v6")
BUTTERFLY = (
    "butterfly/pistonball-v6",
    "butterfly/knights_archers_zombies-v11",
    "butterfly/cooperative_pong-v6",
)


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A server hosting the games by their PettingZoo registry ids."""
    envs = {name: {"pettingzoo": name, "allowed_kwargs": ["max_cycles"]} for name in CLASSIC + BUTTERFLY}
    with running_server(envs, max_sessions=0) as server:
        yield server.address


def _quiet(check: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(*args, **kwargs)


@pytest.mark.parametrize("name", CLASSIC + BUTTERFLY)
def test_aec_api_seed_and_trajectory(address: str, name: str) -> None:
    """api_test and seed_test pass on the remote AEC env, and seeded turns equal the local env's."""
    with RemoteAECEnv(address, env=name) as remote:
        _quiet(api_test, remote, num_cycles=30)
    _quiet(seed_test, lambda: RemoteAECEnv(address, env=name), num_cycles=30)
    with RemoteAECEnv(address, env=name) as remote:
        local = pettingzoo.make("aec", name)
        try:
            assert assert_aec_trajectories_equal(local, remote, seed=5, steps=80) > 0
        finally:
            local.close()


@pytest.mark.parametrize("name", BUTTERFLY)
def test_parallel_api_seed_and_trajectory(address: str, name: str) -> None:
    """parallel_api_test and parallel_seed_test pass, and seeded steps equal the local env's."""
    with RemoteParallelEnv(address, env=name) as remote:
        _quiet(parallel_api_test, remote, num_cycles=30)
    _quiet(parallel_seed_test, lambda: RemoteParallelEnv(address, env=name), num_cycles=30)
    with RemoteParallelEnv(address, env=name) as remote:
        local = pettingzoo.make("parallel", name)
        try:
            assert assert_parallel_trajectories_equal(local, remote, seed=5, steps=40) == 40
        finally:
            local.close()


@pytest.mark.parametrize("name", BUTTERFLY)
def test_max_cycles(address: str, name: str) -> None:
    """max_cycles_test passes with remote envs made with a client's max_cycles."""
    made: list[Any] = []

    def remote(cls: type, **kwargs: Any) -> Any:
        made.append(cls(address, env=name, kwargs=kwargs))
        return made[-1]

    mod = types.SimpleNamespace(
        parallel_env=lambda **kw: remote(RemoteParallelEnv, **kw), env=lambda **kw: remote(RemoteAECEnv, **kw)
    )
    try:
        _quiet(max_cycles_test, mod)
    finally:
        for env in made:
            env.close()
