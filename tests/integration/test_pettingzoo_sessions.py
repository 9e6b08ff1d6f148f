"""Multi-agent sessions keep every session guarantee: paths, resumption, figures, deadlines, isolation, entrypoints."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gymnasium.utils.env_checker import data_equivalence

pytest.importorskip("pettingzoo")

import numpy as np

from remote_gym import ClientConfig, Timeouts, create_remote_environment_server
from remote_gym.client.stats import StatsClient
from remote_gym.errors import DeadlineExceededError, RemoteEnvError, UnknownAgentError, WorkerCrashedError
from remote_gym.pettingzoo import RemoteAECEnv, RemoteParallelEnv
from remote_gym.testing import agent_envs
from remote_gym.testing.agent_checks import assert_aec_trajectories_equal, assert_parallel_trajectories_equal
from remote_gym.testing.server import running_server
from tests.support.git_origin import Origin
from tests.support.proxy import cutting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ENTRYPOINT = """
import time
from remote_gym.testing.agent_envs import Skirmish


class Troubled(Skirmish):
    def __init__(self, trouble):
        super().__init__()
        self.trouble = trouble

    def step(self, actions):
        if self._t == 1 and self.trouble == "hang":
            time.sleep(30)
        if self._t == 1 and self.trouble == "raise":
            raise ValueError("the env's own failure")
        return super().step(actions)


def create_environment(enable_rendering, env_id, trouble="none"):
    return Troubled(trouble)
"""


@pytest.fixture(scope="module")
def entrypoint(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """An operator's entrypoint file whose create_environment returns a PettingZoo Parallel env."""
    path = tmp_path_factory.mktemp("entry") / "troubled.py"
    path.write_text(ENTRYPOINT)
    return path


def _hosted(entrypoint: pathlib.Path) -> dict[str, Any]:
    return {
        "skirmish": {"pettingzoo": "remote_gym.testing.agent_envs"},
        "troubled": {"entrypoint": entrypoint, "allowed_kwargs": ["trouble"]},
    }


@pytest.fixture(scope="module")
def grpc_only(entrypoint: pathlib.Path) -> Iterator[str]:
    """A server whose sessions take the gRPC path only (no same-host lane), with a call limit."""
    with running_server(_hosted(entrypoint), same_host_lane=False, max_call_s=2.0, max_sessions=0) as server:
        yield server.address


@pytest.mark.parametrize("hosting", ["process", "inline"])
def test_paths_and_hostings_give_the_local_trajectories(hosting: str, entrypoint: pathlib.Path) -> None:
    """Over gRPC only, in a worker or in the server process, trajectories equal the local env's."""
    with running_server(_hosted(entrypoint), hosting=hosting, same_host_lane=False) as server:
        with RemoteParallelEnv(server.address, env="skirmish") as remote:
            assert remote._session.connection.path == "grpc"
            assert_parallel_trajectories_equal(agent_envs.parallel_env(), remote, seed=1, steps=30)
        with RemoteAECEnv(server.address, env="skirmish") as remote:
            assert assert_aec_trajectories_equal(agent_envs.env(), remote, seed=1, steps=30) > 10


def test_same_host_lane_is_taken() -> None:
    """A client on the server's host steps a multi-agent session on the direct lane."""
    with (
        running_server(
            {"skirmish": {"pettingzoo": "remote_gym.testing.agent_envs"}}, hosting="process"
        ) as server,
        RemoteParallelEnv(server.address, env="skirmish") as remote,
    ):
        assert remote._session.connection.path == "lane"
        assert_parallel_trajectories_equal(agent_envs.parallel_env(), remote, seed=2, steps=20)


def test_cut_connections_keep_the_trajectory(grpc_only: str) -> None:
    """Cutting the connection every few steps resumes the session: no step lost or applied twice."""
    host, port = grpc_only.rsplit(":", 1)
    local = agent_envs.parallel_env()
    with (
        cutting_proxy(host, int(port)) as proxy,
        RemoteParallelEnv(f"127.0.0.1:{proxy.port}", env="skirmish") as remote,
    ):
        assert data_equivalence(local.reset(seed=4), remote.reset(seed=4), exact=True)
        for step in range(40):
            if step % 7 == 6:
                proxy.cut()
            if not local.agents:
                assert data_equivalence(local.reset(seed=step), remote.reset(seed=step), exact=True)
            actions = dict.fromkeys(local.agents, 0)
            assert data_equivalence(local.step(actions), remote.step(actions), exact=True), step
    assert proxy.cuts >= 5


def test_stats_count_multi_agent_steps(grpc_only: str) -> None:
    """GetStats (what `remote-gym top` shows) counts a multi-agent session's resets and steps."""
    with RemoteParallelEnv(grpc_only, env="skirmish") as remote, StatsClient(grpc_only) as client:
        remote.reset(seed=0)
        for _ in range(5):
            remote.step({agent: 0 for agent in remote.agents})
        [row] = [row for row in client.fetch().sessions if row.session_id == remote.session_id]
    assert (row.env, row.steps, row.resets) == ("skirmish", 5, 1)


def test_hanging_step_hits_the_deadline(grpc_only: str) -> None:
    """A multi-agent step that hangs ends at the client's deadline (and the server's call limit)."""
    with RemoteParallelEnv(
        grpc_only, env="troubled", kwargs={"trouble": "hang"}, timeouts=Timeouts(call=0.5)
    ) as remote:
        remote.reset(seed=0)
        remote.step({agent: 0 for agent in remote.agents})
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            remote.step({agent: 0 for agent in remote.agents})
        assert time.monotonic() - start < 3.0
    with RemoteParallelEnv(grpc_only, env="troubled", kwargs={"trouble": "hang"}) as remote:
        remote.reset(seed=0)
        remote.step({agent: 0 for agent in remote.agents})
        with pytest.raises(WorkerCrashedError):  # max_call_s=2: the server kills the worker
            remote.step({agent: 0 for agent in remote.agents})


def test_env_failure_stays_in_its_session(grpc_only: str) -> None:
    """An entrypoint env that raises gives its client a RemoteEnvError; another session goes on."""
    config = ClientConfig(same_host_lane=False)
    with (
        RemoteParallelEnv(grpc_only, env="troubled", kwargs={"trouble": "raise"}, config=config) as failing,
        RemoteParallelEnv(grpc_only, env="troubled", config=config) as healthy,
    ):
        failing.reset(seed=0)
        healthy.reset(seed=0)
        failing.step({agent: 0 for agent in failing.agents})
        with pytest.raises(RemoteEnvError, match="own failure"):
            failing.step({agent: 0 for agent in failing.agents})
        for _ in range(3):
            healthy.step({agent: 0 for agent in healthy.agents})
        failing.reset(seed=1)  # the failing session itself is still usable


def test_entrypoint_from_a_git_repository(tmp_path: pathlib.Path) -> None:
    """A PettingZoo env from the operator's git repository (repo + entrypoint) is served like any other."""
    origin = Origin(tmp_path / "remote")
    origin.commit({"envs/team.py": ENTRYPOINT})
    args = {"repo": origin.url, "reference": "main", "entrypoint": "envs/team.py"}
    with (
        create_remote_environment_server(args, port=0, repo_cache_dir=tmp_path / "cache") as server,
        RemoteParallelEnv(server.address) as remote,
    ):
        assert_parallel_trajectories_equal(agent_envs.parallel_env(), remote, seed=3, steps=10)


def test_observe_of_an_unknown_agent_is_refused(grpc_only: str) -> None:
    """observe() of an agent the env never has is an UnknownAgentError, not the env's KeyError."""
    with RemoteAECEnv(grpc_only, env="skirmish") as remote:
        remote.reset(seed=0)
        np.testing.assert_array_equal(
            remote.observe("fighter_2")["observation"], remote.call("observe", "fighter_2")["observation"]
        )
        with pytest.raises(UnknownAgentError):
            remote.observe("nobody")
