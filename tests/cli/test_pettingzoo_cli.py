"""`remote-gym serve --pettingzoo` hosts PettingZoo envs for remote_gym.pettingzoo clients."""

from __future__ import annotations

import pytest

pytest.importorskip("pettingzoo")

from remote_gym.cli.main import main
from remote_gym.pettingzoo import RemoteAECEnv
from tests.cli.helpers import serve_in_process

pytestmark = pytest.mark.integration


def test_serve_pettingzoo_registry_id() -> None:
    """`serve --pettingzoo classic/rps-v2` hosts the game under its id; an AEC client plays it."""
    argv = [
        "serve",
        "--pettingzoo",
        "classic/rps-v2",
        "--port",
        "0",
        "--hosting",
        "in-process",
        "--grace",
        "0.5",
    ]
    seen: dict[str, object] = {}

    def use(address: str) -> None:
        with RemoteAECEnv(address, env="classic/rps-v2") as env:
            env.reset(seed=0)
            seen["agents"] = list(env.agents)
            env.step(0)
            seen["next"] = env.agent_selection

    code, out, errors = serve_in_process(lambda console: main(argv, console=console), use)
    assert not errors
    assert code == 0, out
    assert "classic/rps-v2 (default): PettingZoo classic/rps-v2" in out
    assert seen == {"agents": ["player_0", "player_1"], "next": "player_1"}
