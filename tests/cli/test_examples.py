"""The example scripts run as the README says."""

from __future__ import annotations

import importlib.util
import pathlib
from types import ModuleType

import pytest

from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interaction_example_plays_the_entrypoint(capsys: pytest.CaptureFixture[str]) -> None:
    """start_environment_interaction.py plays the env of entrypoint.py, setting the one allowed kwarg."""
    hosted = {
        "entry": {
            "entrypoint": EXAMPLES / "entrypoint.py",
            "kwargs": {"env": "Acrobot-v1", "max_episode_steps": 500},
            "allowed_kwargs": ["max_episode_steps"],
        }
    }
    with running_server(hosted, hosting="inline") as server:
        returns = _load("start_environment_interaction").main(
            ["-u", "127.0.0.1", "-p", str(server.port), "--episodes", "2"]
        )
    assert len(returns) == 2
    assert all(-200.0 <= r <= 0.0 for r in returns)  # the client's 200-step limit applies
    assert "mean return" in capsys.readouterr().out


def test_vector_example_steps_envs_on_two_servers(capsys: pytest.CaptureFixture[str]) -> None:
    """vector_two_servers.py spreads a vector env over two local servers and reports its speed."""
    assert _load("vector_two_servers").main(["--num-envs", "4", "--steps", "20"]) > 0
    assert "4 envs on 127.0.0.1:" in capsys.readouterr().out


def test_pettingzoo_example_steps_copies_on_two_servers(capsys: pytest.CaptureFixture[str]) -> None:
    """pettingzoo_vector.py steps copies of a PettingZoo env on two servers as one vector env."""
    pytest.importorskip("pettingzoo")
    assert _load("pettingzoo_vector").main(["--copies", "2", "--steps", "30"]) > 0
    assert "12 agents in 4 copies on 127.0.0.1:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name", ["start_remote_environment", "start_environment_interaction", "train_ppo", "ppo_envpool_api"]
)
def test_examples_have_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every example script answers --help without needing its optional dependencies."""
    with pytest.raises(SystemExit) as info:
        _load(name).main(["--help"])
    assert info.value.code == 0
    assert "usage" in capsys.readouterr().out
