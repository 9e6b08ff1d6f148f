"""A RemoteVectorEnv, on one host or two, is indistinguishable from a local SyncVectorEnv."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import remote_gym
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.errors import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    DeadlineExceededError,
    EnvClosedError,
    InvalidCallError,
    PermissionDeniedError,
    RemoteEnvError,
    ServerBusyError,
    TransportError,
    WorkerCrashedError,
)
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server
from remote_gym.transport.auth import TokenAuth
from tests.conftest import hosted_environments, local_make

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NUM_ENVS = 4


@pytest.fixture(scope="module")
def second_server() -> Iterator[EnvServer]:
    """A second loopback server hosting the same environments, for two-host vector envs."""
    with running_server(hosted_environments(), hosting="process", grace=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def sharded_server() -> Iterator[EnvServer]:
    """A server whose vector sessions step their sub-envs in 3 processes (workers_per_session=3)."""
    with running_server(hosted_environments(), hosting="process", grace=0.5, workers_per_session=3) as server:
        yield server


@pytest.fixture(params=["one-host", "two-hosts", "sharded"])
def addresses(request: pytest.FixtureRequest, env_server: EnvServer) -> list[str]:
    """One address, two addresses of different servers, or one server with 3 workers per session."""
    if request.param == "one-host":
        return [env_server.address]
    if request.param == "sharded":
        return [request.getfixturevalue("sharded_server").address]
    return [env_server.address, request.getfixturevalue("second_server").address]


@contextlib.contextmanager
def vector_pair(
    name: str, addresses: list[str], num_envs: int = NUM_ENVS, **options: Any
) -> Iterator[tuple[SyncVectorEnv, RemoteVectorEnv]]:
    """A local SyncVectorEnv and a RemoteVectorEnv of the same env, closed on the way out."""
    env_kwargs = options.pop("kwargs", {})
    render_mode = options.get("render_mode")
    mode = options.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    local = SyncVectorEnv(
        [lambda: local_make(name, render_mode=render_mode, **env_kwargs) for _ in range(num_envs)],
        autoreset_mode=mode,
    )
    try:
        with contextlib.closing(
            RemoteVectorEnv(name, num_envs, address=addresses, kwargs=env_kwargs, **options)
        ) as remote:
            yield local, remote
    finally:
        local.close()


def assert_same(expected: Any, actual: Any, what: str) -> None:
    """Exact equality, types included, with a readable failure."""
    assert data_equivalence(expected, actual, exact=True), (
        f"{what}:\nexpected {expected!r}\nactual   {actual!r}"
    )


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
@pytest.mark.parametrize("name", ["CartPole-v1", "DictSpaces", "TupleSpaces"])
def test_matches_sync_vector_env(
    name: str, mode: AutoresetMode, addresses: list[str], request: pytest.FixtureRequest
) -> None:
    """1,000 steps with many episode ends give element-for-element the local SyncVectorEnv's results."""
    steps = 300 if request.node.callspec.params["addresses"] == "sharded" else 1000  # keep the suite short
    with vector_pair(name, addresses, autoreset_mode=mode) as (local, remote):
        assert remote.single_observation_space == local.single_observation_space
        assert remote.observation_space == local.observation_space
        assert remote.action_space == local.action_space
        assert remote.metadata["autoreset_mode"] is mode
        assert_same(local.reset(seed=11), remote.reset(seed=11), "reset")
        local.action_space.seed(11)
        episode_ends = 0
        for step in range(steps):
            actions = local.action_space.sample()
            expected = local.step(actions)
            assert_same(expected, remote.step(actions), f"step {step}")
            done = expected[2] | expected[3]
            episode_ends += int(done.sum())
            if mode is AutoresetMode.DISABLED and done.any():
                options = {"reset_mask": done}
                assert_same(
                    local.reset(options=dict(options)), remote.reset(options=options), f"reset {step}"
                )
        assert episode_ends >= steps // 20


@pytest.mark.parametrize(
    "mask", [[True, False, False, True], [False, False, True, True], [True, True, True, True]]
)
def test_reset_mask(addresses: list[str], mask: list[bool]) -> None:
    """reset(options={"reset_mask": ...}) resets exactly the masked sub-envs (a host may be left out)."""
    with vector_pair("DictSpaces", addresses) as (local, remote):
        assert_same(local.reset(seed=3), remote.reset(seed=3), "reset")
        local.action_space.seed(3)
        for _ in range(5):
            actions = local.action_space.sample()
            assert_same(local.step(actions), remote.step(actions), "step")
        options = {"reset_mask": np.array(mask)}
        assert_same(local.reset(options=dict(options)), remote.reset(options=options), "masked reset")
        assert "reset_mask" in options  # the caller's dict is left alone
        actions = local.action_space.sample()
        assert_same(local.step(actions), remote.step(actions), "step after masked reset")


def test_bad_reset_mask_raises_as_gymnasium(env_server: EnvServer) -> None:
    """A reset mask of the wrong type, dtype, shape or with no True raises Gymnasium's exception types."""
    with RemoteVectorEnv("CartPole-v1", 3, address=env_server.address) as envs:
        envs.reset(seed=0)
        with pytest.raises(TypeError):
            envs.reset(options={"reset_mask": [True, False, True]})
        with pytest.raises(TypeError):
            envs.reset(options={"reset_mask": np.ones(3, dtype=np.int64)})
        with pytest.raises(ValueError, match="shape"):
            envs.reset(options={"reset_mask": np.ones(2, dtype=bool)})
        with pytest.raises(ValueError, match="at least one True"):
            envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})


def test_per_env_seed_lists(addresses: list[str]) -> None:
    """A list of seeds seeds sub-env i with seeds[i]; reset(seed=s) seeds sub-env i with s + i."""
    with vector_pair("CartPole-v1", addresses) as (local, remote):
        seeds = [7, 100, 3, 42]
        assert_same(local.reset(seed=seeds), remote.reset(seed=seeds), "reset(seed=list)")
        assert remote.np_random_seed == tuple(seeds)
        remote.reset(seed=5)
        assert remote.np_random_seed == (5, 6, 7, 8)
        with pytest.raises(ValueError, match="length must match"):
            remote.reset(seed=[1, 2])
        # bool is an int to SyncVectorEnv too: seed=True seeds like seed=1
        assert_same(local.reset(seed=True), remote.reset(seed=True), "reset(seed=True)")
        mixed = [True, None, 3, False]
        local_obs, _ = local.reset(seed=mixed)
        remote_obs, _ = remote.reset(seed=mixed)
        np.testing.assert_array_equal(local_obs[[0, 2, 3]], remote_obs[[0, 2, 3]])  # None: fresh entropy


def test_call_get_attr_set_attr(addresses: list[str]) -> None:
    """call/get_attr/set_attr reach every sub-env, in order, as in SyncVectorEnv."""
    with vector_pair("CartPole-v1", addresses) as (local, remote):
        assert remote.get_attr("gravity") == local.get_attr("gravity")
        remote.set_attr("gravity", [1.0, 2.0, 3.0, 4.0])
        local.set_attr("gravity", [1.0, 2.0, 3.0, 4.0])
        assert remote.get_attr("gravity") == (1.0, 2.0, 3.0, 4.0)
        remote.set_attr("length", 0.25)
        assert remote.get_attr("length") == (0.25,) * NUM_ENVS
        assert_same(local.call("reset", seed=9), remote.call("reset", seed=9), "call('reset', seed=9)")
        with pytest.raises(ValueError, match="length equal to the number"):
            remote.set_attr("gravity", [1.0])
        with pytest.raises(PermissionDeniedError):
            remote.call("_secret")


def test_render_returns_one_frame_per_sub_env(addresses: list[str]) -> None:
    """render() returns a tuple with each sub-env's rgb frame, equal to the local frames."""
    with vector_pair("CartPole-v1", addresses, num_envs=3, render_mode="rgb_array") as (local, remote):
        assert_same(local.reset(seed=1), remote.reset(seed=1), "reset")
        frames = remote.render()
        assert isinstance(frames, tuple)
        assert len(frames) == 3
        assert_same(local.render(), frames, "frames")


def test_close_twice_and_use_after_close(env_server: EnvServer) -> None:
    """close() is idempotent; every later call raises EnvClosedError."""
    envs = RemoteVectorEnv("CartPole-v1", 2, address=env_server.address)
    envs.reset(seed=0)
    envs.close()
    envs.close()
    assert envs.closed
    for use in (
        lambda: envs.reset(),
        lambda: envs.step(np.zeros(2, dtype=np.int64)),
        lambda: envs.render(),
        lambda: envs.get_attr("gravity"),
        lambda: envs.set_attr("gravity", 1.0),
    ):
        with pytest.raises(EnvClosedError):
            use()


def test_make_vec_mirrors_gymnasium(env_server: EnvServer, second_server: EnvServer) -> None:
    """make_vec takes gymnasium.make_vec's shape (vector_kwargs, env kwargs) and spreads envs over hosts."""
    with remote_gym.make_vec(
        "DictSpaces",
        5,
        address=[env_server.address, second_server.address],
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
        episode_length=7,
    ) as envs:
        assert isinstance(envs, gym.vector.VectorEnv)
        assert envs.envs_per_host == (3, 2)
        assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
        assert envs.get_attr("episode_length") == (7,) * 5
        assert "DictSpaces" in repr(envs)
        assert second_server.address in repr(envs)


def _raising_actions(step_counts: np.ndarray, fail_env: int | None) -> np.ndarray:
    """Action 1 makes Raising fail on its step 3: avoid it, except for ``fail_env``."""
    actions = np.ones(len(step_counts), dtype=np.int64)
    actions[step_counts == 2] = 0
    if fail_env is not None:
        actions[fail_env] = 1
    return actions


def test_restart_on_failure_keeps_other_sub_envs_exact(
    env_server: EnvServer, second_server: EnvServer
) -> None:
    """With on_env_failure="restart" the failing sub-env is truncated and recreated; the others match the reference."""
    addresses = [env_server.address, second_server.address]
    with vector_pair("Raising", addresses, on_env_failure="restart", kwargs={"fail_on_step": 3}) as (
        _,
        remote,
    ):
        reference = SyncVectorEnv([lambda: local_make("Raising", fail_on_step=None) for _ in range(NUM_ENVS)])
        try:
            others = [0, 1, 2]
            expected_obs, _ = reference.reset(seed=5)
            obs, infos = remote.reset(seed=5)
            assert_same(expected_obs, obs, "reset")
            steps = infos["step"]
            failures = 0
            for t in range(120):
                # Sub-env 3 (on the second host) fails every time it reaches its step 3.
                fail = 3 if steps[3] == 2 else None
                actions = _raising_actions(steps, fail)
                expected = reference.step(actions)
                obs, rewards, terminated, truncated, infos = remote.step(actions)
                for got, want, what in zip(
                    (obs, rewards, terminated, truncated),
                    expected[:4],
                    ("obs", "rewards", "terminated", "truncated"),
                    strict=True,
                ):
                    assert_same(want[others], got[others], f"{what} of the other sub-envs at step {t}")
                assert_same(expected[4]["step"][others], infos["step"][others], f"info step at {t}")
                restarted = infos.get("env_restarted", np.zeros(NUM_ENVS, dtype=bool))
                if fail is not None:
                    failures += 1
                    assert truncated[3]
                    assert not terminated[3]
                    assert rewards[3] == 0.0
                    assert infos["_env_restarted"].tolist() == [False, False, False, True]
                    assert restarted[3]
                    assert "ValueError: boom at step 3" in infos["env_restart_reason"][3]
                else:
                    assert not restarted.any()
                steps = np.where(infos["_step"], infos["step"], 0)
            assert failures >= 3
        finally:
            reference.close()


def test_sub_env_failure_names_global_index_and_host(env_server: EnvServer, second_server: EnvServer) -> None:
    """By default a sub-env's exception is a RemoteEnvError naming its global index and its host."""
    with RemoteVectorEnv("Raising", 4, address=[env_server.address, second_server.address]) as envs:
        envs.reset(seed=0)
        envs.step(np.array([0, 0, 0, 0]))
        envs.step(np.array([0, 0, 0, 0]))
        with pytest.raises(RemoteEnvError, match="boom at step 3") as info:
            envs.step(np.array([0, 0, 0, 1]))
        assert info.value.env_index == 3
        assert info.value.host == second_server.address
        assert str(info.value).startswith(f"sub-env 3 (on {second_server.address}, its sub-env 1)")
        assert info.value.remote_type == "builtins.ValueError"


def test_dead_worker_names_host_and_sub_envs(env_server: EnvServer, second_server: EnvServer) -> None:
    """A worker that dies gives WorkerCrashedError naming the host and the sub-envs it held."""
    with RemoteVectorEnv("Exiting", 4, address=[env_server.address, second_server.address]) as envs:
        envs.reset(seed=0)
        with pytest.raises(WorkerCrashedError) as info:
            envs.step(np.array([0, 0, 1, 0]))
        assert info.value.host == second_server.address
        assert info.value.env_indices == (2, 3)
        assert info.value.exitcode == 3
        assert second_server.address in str(info.value)


_SERVER_SCRIPT = textwrap.dedent(
    """
    import sys
    from remote_gym.testing.server import running_server
    with running_server({"CartPole-v1": "CartPole-v1"}, grace=0.1) as server:
        print(server.port, flush=True)
        sys.stdin.read()
    """
)


@contextlib.contextmanager
def server_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server in its own process (so that it can be stopped or killed), and its address."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        yield proc, f"127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


def test_unresponsive_host_raises_naming_it_within_the_timeout(env_server: EnvServer) -> None:
    """A host that stops answering gives a TransportError naming it within timeouts.call; no hang."""
    with (
        server_process() as (proc, address),
        RemoteVectorEnv(
            "CartPole-v1",
            4,
            address=[env_server.address, address],
            # Only the server process stops (its workers are in another process group): on the
            # same-host lane the workers would go on answering.
            config=ClientConfig(timeouts=Timeouts(connect=5.0, call=1.0), same_host_lane=False),
        ) as envs,
    ):
        envs.reset(seed=0)
        envs.step(np.zeros(4, dtype=np.int64))
        os.killpg(proc.pid, signal.SIGSTOP)  # the server and everything it started (zygote, workers)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # the signal has taken effect: it is stopped
        assert os.WIFSTOPPED(status)
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            envs.step(np.zeros(4, dtype=np.int64))
        assert time.monotonic() - start < 3.0
        assert info.value.host == address
        assert address in str(info.value)
        with pytest.raises(TransportError, match=address):  # that host's session is over
            envs.step(np.zeros(4, dtype=np.int64))


def test_killed_host_raises_naming_it(env_server: EnvServer) -> None:
    """A host whose server dies gives a TransportError naming it, once resuming has failed for resume_s."""
    config = ClientConfig(timeouts=Timeouts(connect=5.0, call=5.0), resume_s=0.5)
    with (
        server_process() as (proc, address),
        RemoteVectorEnv("CartPole-v1", 4, address=[address, env_server.address], config=config) as envs,
    ):
        envs.reset(seed=0)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)  # gone: its workers see their server's socket closed before any later request
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            envs.step(np.zeros(4, dtype=np.int64))
        assert time.monotonic() - start < 5.0
        assert info.value.host == address


def test_unreachable_address_is_a_connect_error(env_server: EnvServer) -> None:
    """An address nobody listens on fails the constructor with ConnectError naming it."""
    with pytest.raises(ConnectError, match=r"127\.0\.0\.1:1\b"):
        RemoteVectorEnv(
            "CartPole-v1", 2, address=[env_server.address, "127.0.0.1:1"], timeouts=Timeouts(connect=0.5)
        )


def test_invalid_arguments() -> None:
    """Bad host/env counts, autoreset modes and failure policies are ConfigErrors before any I/O."""
    with pytest.raises(ConfigError):
        RemoteVectorEnv("CartPole-v1", 1, address=["a:1", "b:1"])
    with pytest.raises(ConfigError):
        RemoteVectorEnv("CartPole-v1", [2], address=["a:1", "b:1"])
    with pytest.raises(ConfigError):
        RemoteVectorEnv("CartPole-v1", 2, address="a:1", autoreset_mode="sometimes")
    with pytest.raises(ConfigError):
        RemoteVectorEnv("CartPole-v1", 2, address="a:1", on_env_failure="ignore")


def test_too_many_envs_is_refused() -> None:
    """A session asking for more sub-envs than the server allows is refused with ServerBusyError."""
    with (
        running_server({"CartPole-v1": "CartPole-v1"}, max_envs_per_session=4) as server,
        pytest.raises(ServerBusyError, match="at most 4"),
    ):
        RemoteVectorEnv("CartPole-v1", 5, address=server.address)


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
def test_restart_after_worker_death(
    env_server: EnvServer, second_server: EnvServer, mode: AutoresetMode
) -> None:
    """In restart mode a dead worker's host gets a new session; the other host's sub-envs match the reference."""
    addresses = [env_server.address, second_server.address]
    with vector_pair(
        "Exiting", addresses, autoreset_mode=mode, on_env_failure="restart", kwargs={"exit_action": 1}
    ) as (_, remote):
        reference = SyncVectorEnv(
            [lambda: local_make("Exiting", exit_action=None) for _ in range(NUM_ENVS)], autoreset_mode=mode
        )
        try:
            assert_same(reference.reset(seed=2), remote.reset(seed=2), "reset")
            first = [0, 1]
            previous = None
            for t in range(60):
                actions = np.zeros(NUM_ENVS, dtype=np.int64)
                if t in (10, 35):
                    actions[3] = 1  # kills the second host's worker
                expected = reference.step(actions)
                obs, rewards, terminated, truncated, infos = remote.step(actions)
                for got, want, what in zip(
                    (obs, rewards, terminated, truncated),
                    expected[:4],
                    ("obs", "rewards", "terminated", "truncated"),
                    strict=True,
                ):
                    assert_same(want[first], got[first], f"{what} of the first host's sub-envs at step {t}")
                if t in (10, 35):
                    assert truncated[2:].all()
                    assert not terminated[2:].any()
                    flags = infos["final_info"] if mode is AutoresetMode.SAME_STEP else infos
                    assert flags["env_restarted"].tolist() == [False, False, True, True]
                    assert "WorkerCrashedError" in flags["env_restart_reason"][3]
                    if mode is AutoresetMode.SAME_STEP:
                        assert_same(previous[3], infos["final_obs"][3], "final obs of the restarted sub-env")
                    else:  # the episode ends on the last observation the client saw
                        assert_same(previous[2:], obs[2:], "final obs of the restarted sub-envs")
                elif t in (11, 36) and mode is AutoresetMode.NEXT_STEP:
                    assert not (terminated[2:] | truncated[2:]).any()  # the deferred autoreset
                assert obs in remote.observation_space
                done = expected[2] | expected[3] | terminated | truncated
                if mode is AutoresetMode.DISABLED and done.any():
                    reference.reset(options={"reset_mask": done})
                    obs, _ = remote.reset(options={"reset_mask": done})
                previous = obs
        finally:
            reference.close()


def test_sharded_sub_env_failure_names_its_global_index(sharded_server: EnvServer) -> None:
    """A sub-env failing in a helper process is named by its session-wide index."""
    with RemoteVectorEnv("Raising", 4, address=sharded_server.address) as envs:
        envs.reset(seed=0)
        envs.step(np.array([0, 0, 0, 0]))
        envs.step(np.array([0, 0, 0, 0]))
        with pytest.raises(RemoteEnvError, match=r"^sub-env 3 \(on ") as info:
            envs.step(np.array([0, 0, 0, 1]))
        assert info.value.env_index == 3
        envs.reset(seed=1)  # the session goes on


def test_sharded_helper_death(sharded_server: EnvServer) -> None:
    """A dead helper process ends the session with WorkerCrashedError; restart mode re-creates it."""
    with RemoteVectorEnv("Exiting", 4, address=sharded_server.address) as envs:
        envs.reset(seed=0)
        with pytest.raises(WorkerCrashedError, match="helper process") as info:
            envs.step(np.array([0, 0, 1, 0]))
        assert info.value.env_indices == (0, 1, 2, 3)
    with RemoteVectorEnv("Exiting", 4, address=sharded_server.address, on_env_failure="restart") as envs:
        envs.reset(seed=0)
        _, _, _, truncated, infos = envs.step(np.array([0, 0, 1, 0]))
        assert truncated.all()
        assert infos["env_restarted"].all()
        obs, rewards, terminated, truncated, _ = envs.step(np.zeros(4, dtype=np.int64))
        assert not rewards.any()
        assert not (terminated | truncated).any()
        assert obs in envs.observation_space


def test_workers_per_session_needs_worker_processes() -> None:
    """workers_per_session must be >= 1, and > 1 only with process hosting (the server never forks)."""
    entries = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)
    with pytest.raises(ConfigError):
        ServerConfig(environments=entries, workers_per_session=0)
    with pytest.raises(ConfigError, match="process"):
        ServerConfig(environments=entries, hosting="inline", workers_per_session=2)
    assert ServerConfig(environments=entries, workers_per_session=4).workers_per_session == 4


def test_disabled_mode_refuses_a_step_before_the_reset(addresses: list[str]) -> None:
    """DISABLED: stepping a sub-env that awaits its reset is refused before any sub-env steps."""
    with vector_pair("TupleSpaces", addresses, autoreset_mode=AutoresetMode.DISABLED) as (local, remote):
        assert_same(local.reset(seed=4), remote.reset(seed=4), "reset")
        local.action_space.seed(4)
        done = np.zeros(NUM_ENVS, dtype=bool)
        while not done.any():
            actions = local.action_space.sample()
            expected = local.step(actions)
            assert_same(expected, remote.step(actions), "step")
            done = expected[2] | expected[3]
        with pytest.raises(InvalidCallError, match="must be reset"):
            remote.step(local.action_space.sample())
        options = {"reset_mask": done}
        assert_same(local.reset(options=dict(options)), remote.reset(options=options), "masked reset")
        actions = local.action_space.sample()
        assert_same(local.step(actions), remote.step(actions), "step after the refused one")


def test_per_host_tokens() -> None:
    """Each host may need its own bearer token; a wrong one is refused with AuthenticationError."""
    with (
        running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline", tokens=(TokenAuth("token-a"),)) as a,
        running_server({"CartPole-v1": "CartPole-v1"}, hosting="inline", tokens=(TokenAuth("token-b"),)) as b,
    ):
        with RemoteVectorEnv(
            "CartPole-v1", 2, address=[a.address, b.address], token=["token-a", "token-b"]
        ) as envs:
            envs.reset(seed=0)
            assert envs.step(np.zeros(2, dtype=np.int64))[0].shape == (2, 4)
            assert "token-" not in repr(envs)
        with pytest.raises(AuthenticationError):
            RemoteVectorEnv("CartPole-v1", 2, address=[a.address, b.address], token="token-a")
