"""RemoteVectorEnv(batch_size=M): EnvPool's send/recv across hosts, exact per sub-env; mixed env pools."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import concatenate, create_empty_array

from remote_gym.client import make_envpool
from remote_gym.client.vector_args import EnvGroup
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.errors import ConfigError, InvalidActionError, InvalidCallError, RemoteEnvError
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from remote_gym.vector.infos import replay_infos
from remote_gym.vector.splits import split_batch
from tests.conftest import local_make

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

HOSTED = {
    name: {"gym_id": IMPORTABLE_ENV_IDS.get(name, name), "allowed_kwargs": "*"}
    for name in ("CartPole-v1", "MixedInfo", "DictSpaces", "Frame", "Sleepy", "Raising", "Exiting")
}


@pytest.fixture(scope="module")
def servers() -> Iterator[list[str]]:
    """Two loopback servers (worker process per session), the first with the same-host lane."""
    with (
        running_server(HOSTED, hosting="process", grace=0.5) as first,
        running_server(HOSTED, hosting="process", grace=0.5, same_host_lane=False) as second,
    ):
        yield [first.address, second.address]


def sub_info(infos: dict[str, Any], k: int) -> dict[str, Any]:
    """Row ``k`` of a vectorised info: the keys its masks mark, nested dicts included."""
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_") or key == "env_id":
            continue
        if not infos[f"_{key}"][k]:
            continue
        out[key] = sub_info(value, k) if isinstance(value, dict) else value[k]
    return out


def assert_same(expected: Any, actual: Any, what: str) -> None:
    """Exact equality, types included."""
    assert data_equivalence(expected, actual, exact=True), (
        f"{what}:\nexpected {expected!r}\nactual   {actual!r}"
    )


class Recording(SyncVectorEnv):
    """A SyncVectorEnv that also keeps the infos its sub-env gave in its last call, as they came."""

    calls: list[dict[str, Any]]
    _depth = 0

    def _add_info(
        self, vector_infos: dict[str, Any], env_info: dict[str, Any], env_num: int
    ) -> dict[str, Any]:
        if not self._depth:  # Gymnasium's _add_info calls itself for nested dicts: only the env's own
            self.calls.append(env_info)
        self._depth += 1
        try:
            return super()._add_info(vector_infos, env_info, env_num)
        finally:
            self._depth -= 1

    def reset(self, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls = []
        return super().reset(**kwargs)

    def step(self, actions: Any) -> Any:
        self.calls = []
        return super().step(actions)


class Twins:
    """One local single-env SyncVectorEnv per sub-env, stepped with the actions sent to that sub-env."""

    def __init__(self, name: str, num_envs: int, seed: int, mode: AutoresetMode, **kwargs: Any) -> None:
        self.envs: list[Recording] = [
            Recording([lambda: local_make(name, **kwargs)], autoreset_mode=mode) for _ in range(num_envs)
        ]
        self.expected: list[deque[tuple[Any, ...]]] = [deque() for _ in range(num_envs)]
        for i, env in enumerate(self.envs):
            obs, _ = env.reset(seed=seed + i)
            self.expected[i].append((obs, np.zeros(1), np.zeros(1, bool), np.zeros(1, bool), env.calls))
        self.spaces = [env.single_action_space for env in self.envs]
        for i, space in enumerate(self.spaces):
            space.seed(100 + i)

    def actions(self, ids: np.ndarray) -> Any:
        """Each sub-env's next action (its own fixed sequence), stepping its twin with it; as a batch."""
        space = self.spaces[0]
        actions = [self.spaces[i].sample() for i in ids]
        for i, action in zip(ids, actions, strict=True):
            result = self.envs[i].step(concatenate(space, [action], create_empty_array(space, 1)))
            self.expected[i].append((*result[:4], self.envs[i].calls))
        return concatenate(space, actions, create_empty_array(space, len(actions)))

    def check(self, result: tuple[Any, ...], space: Any, what: str) -> None:
        """Every row of a recv equals its sub-env's twin's next result; the infos equal the vectorised
        info Gymnasium builds from the twins' infos in the batch's order (a value is typed by the first
        sub-env of the batch that has it, as in any vector env)."""
        obs, rewards, terminations, truncations, infos = result
        calls = []
        for k, i in enumerate(infos["env_id"]):
            e_obs, e_rew, e_term, e_trunc, e_calls = self.expected[i].popleft()
            assert_same(e_obs, split_batch(space, obs, k, k + 1), f"{what}: obs of sub-env {i}")
            assert (rewards[k], terminations[k], truncations[k]) == (e_rew[0], e_term[0], e_trunc[0]), what
            calls += [(k, info) for info in e_calls]
        expected = replay_infos(calls, len(infos["env_id"]))
        assert_same(expected, {key: v for key, v in infos.items() if key != "env_id"}, f"{what}: infos")

    def close(self) -> None:
        for env in self.envs:
            env.close()


def drive(remote: RemoteVectorEnv, twins: Twins, recvs: int, seed: int) -> int:
    """``recvs`` recv calls, each followed by a send to a random part of the sub-envs waiting; episode ends."""
    rng = np.random.default_rng(seed)
    waiting: list[int] = []
    ends = 0
    for n in range(recvs):
        result = remote.recv()
        assert len(result[4]["env_id"]) == remote.batch_size
        twins.check(result, remote.single_observation_space, f"recv {n}")
        ends += int((result[2] | result[3]).sum())
        waiting += result[4]["env_id"].tolist()
        stepping = remote.num_envs - len(waiting)
        # Random subsets (at least enough for the next batch) make the batches' order random.
        k = int(rng.integers(max(1, remote.batch_size - stepping), len(waiting) + 1))
        ids = np.array(rng.permutation(waiting)[:k])
        waiting = [i for i in waiting if i not in set(ids.tolist())]
        remote.send(twins.actions(ids), ids)
    return ends


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda m: m.name)
def test_each_sub_env_matches_the_local_env_whatever_the_order(
    servers: list[str], mode: AutoresetMode
) -> None:
    """Two hosts (lane and gRPC), batches of 2 of 5 in random orders: every sub-env's results, infos
    included, equal its own local env's for the same seed and action sequence."""
    twins = Twins("MixedInfo", 5, 7, mode)
    try:
        with RemoteVectorEnv(
            "MixedInfo", [3, 2], address=servers, autoreset_mode=mode, batch_size=2
        ) as remote:
            remote.async_reset(seed=7)
            assert drive(remote, twins, 120, seed=1) >= 10
    finally:
        twins.close()


def test_dict_observations_on_one_host(servers: list[str]) -> None:
    """Dict observations and nested infos, one host, batches of 3 of 4."""
    twins = Twins("DictSpaces", 4, 3, AutoresetMode.NEXT_STEP)
    try:
        with RemoteVectorEnv("DictSpaces", 4, address=servers[0], batch_size=3) as remote:
            remote.async_reset(seed=3)
            drive(remote, twins, 40, seed=2)
    finally:
        twins.close()


def test_batch_size_num_envs_steps_as_today_and_sends(servers: list[str]) -> None:
    """batch_size == num_envs: step() equals a local SyncVectorEnv; send/recv works as well."""
    local = SyncVectorEnv([lambda: local_make("CartPole-v1") for _ in range(4)])
    with (
        contextlib.closing(local),
        RemoteVectorEnv("CartPole-v1", 4, address=servers, batch_size=4) as remote,
    ):
        assert_same(local.reset(seed=5), remote.reset(seed=5), "reset")
        for _ in range(20):
            actions = local.action_space.sample()
            assert_same(local.step(actions), remote.step(actions), "step")
        remote.async_reset(seed=5)
        *first, infos = remote.recv()
        assert sorted(infos["env_id"].tolist()) == [0, 1, 2, 3]
        assert_same(local.reset(seed=5)[0], first[0], "async_reset")
        for _ in range(30):  # every sub-env sent and received at once: a synchronous step, made as one
            actions = local.action_space.sample()
            remote.send(actions, infos["env_id"])
            assert remote._whole is not None  # no asynchronous request went out
            *got, infos = remote.recv()
            assert infos["env_id"].tolist() == [0, 1, 2, 3]
            assert_same(local.step(actions)[:4], tuple(got), "send/recv")
        actions = local.action_space.sample()
        remote.send(actions[::-1], [3, 2, 1, 0])  # another order: stepped asynchronously
        assert remote._whole is None
        *got, infos = remote.recv()
        order = infos["env_id"]
        expected = local.step(actions)
        for k, env_id in enumerate(order.tolist()):
            assert_same(tuple(part[env_id] for part in expected[:4]), tuple(part[k] for part in got), "async")
        infos = {"env_id": np.arange(4)}
        remote.send(np.zeros(4, dtype=np.int64), infos["env_id"])
        with pytest.raises(InvalidCallError, match="recv"):
            remote.step(np.zeros(4, dtype=np.int64))  # results are pending
        remote.recv()
        remote.send(np.array([0, 1, 7, 0]), infos["env_id"])  # refused at recv, before any sub-env stepped
        with pytest.raises(InvalidActionError):
            remote.recv()
        remote.send(np.zeros(4, dtype=np.int64), infos["env_id"])  # the sub-envs await actions again
        remote.recv()


def test_typed_errors(servers: list[str]) -> None:
    """step() with M < N, ids not returned by recv, repeated or unknown ids, bad actions, bad batch sizes."""
    with pytest.raises(ConfigError, match="batch_size"):
        RemoteVectorEnv("CartPole-v1", 4, address=servers[0], batch_size=5)
    with pytest.raises(ConfigError, match="DISABLED"):
        RemoteVectorEnv("CartPole-v1", 4, address=servers[0], batch_size=2, autoreset_mode="Disabled")
    with (
        RemoteVectorEnv("CartPole-v1", 4, address=servers[0]) as plain,
        pytest.raises(InvalidCallError, match="batch_size"),
    ):
        plain.async_reset()
    with RemoteVectorEnv("CartPole-v1", 4, address=servers, batch_size=2) as remote:
        remote.async_reset(seed=0)
        with pytest.raises(InvalidCallError, match=r"send\(actions, env_ids\) and recv\(\)"):
            remote.step(np.zeros(4, dtype=np.int64))
        with pytest.raises(InvalidCallError, match="not returned by recv"):
            remote.send(np.zeros(1, dtype=np.int64), [0])  # nothing received yet
        ids = remote.recv()[4]["env_id"]
        with pytest.raises(InvalidCallError, match="reset_mask"):
            remote.reset(options={"reset_mask": np.array([True, False, False, False])})
        with pytest.raises(InvalidCallError, match="twice"):
            remote.send(np.zeros(2, dtype=np.int64), [ids[0], ids[0]])
        with pytest.raises(InvalidCallError, match="not a sub-env"):
            remote.send(np.zeros(1, dtype=np.int64), [9])
        with pytest.raises(InvalidActionError):
            remote.send(np.zeros(3, dtype=np.int64), ids)
        remote.send(np.array([0, 1]), ids)  # the refused sends left the ids waiting
        with pytest.raises(InvalidCallError, match="not returned by recv"):
            remote.send(np.zeros(2, dtype=np.int64), ids)  # already sent
        remote.recv()
        remote.recv()
        with pytest.raises(InvalidCallError, match="stepping"):
            remote.recv()  # nothing is stepping any more


def test_sync_calls_between_async_steps(servers: list[str]) -> None:
    """get_attr, set_attr, call and render while sub-envs step: the results sent still arrive, exact."""
    twins = Twins("MixedInfo", 4, 0, AutoresetMode.NEXT_STEP)
    try:
        with RemoteVectorEnv("MixedInfo", 4, address=servers, batch_size=2) as remote:
            remote.async_reset(seed=0)
            twins.check(remote.recv(), remote.single_observation_space, "first")
            remote.send(twins.actions(np.array([0, 1])), [0, 1])
            assert remote.get_attr("episode_length") == (20,) * 4
            remote.set_attr("spare", [1, 2, 3, 4])
            assert remote.call("spare") == (1, 2, 3, 4)
            twins.check(remote.recv(), remote.single_observation_space, "second")
            twins.check(remote.recv(), remote.single_observation_space, "after the calls")
    finally:
        twins.close()


def test_slow_sub_env_does_not_hold_up_the_others(servers: list[str]) -> None:
    """One sub-env in four takes 2 s per step: the other three keep stepping meanwhile on its host."""
    kwargs = {"step_s": 0.001, "slow_s": 2.0, "slow_every": 4, "episode_length": 1000}
    with RemoteVectorEnv("Sleepy", 4, address=servers[0], kwargs=kwargs, batch_size=1) as remote:
        remote.async_reset(seed=0)  # sub-env 0 is the slow one
        for _ in range(4):
            remote.send(np.zeros(1, dtype=np.int64), remote.recv()[4]["env_id"])
        start = time.perf_counter()
        seen = []
        for _ in range(30):
            ids = remote.recv()[4]["env_id"]
            seen += ids.tolist()
            remote.send(np.zeros(1, dtype=np.int64), ids)
        assert time.perf_counter() - start < 1.5
        assert set(seen) == {1, 2, 3}  # never the slow sub-env 0


def test_quick_sub_envs_over_two_hosts_answer_a_batch_per_request(servers: list[str]) -> None:
    """Quick sub-envs on two hosts (lane and gRPC), a batch of one host's count: each ``recv`` takes one
    reply, from the host that has the whole batch, not a part from each host."""
    with RemoteVectorEnv("CartPole-v1", 8, address=servers, batch_size=4) as remote:
        remote.async_reset(seed=0)
        actions = np.zeros(4, dtype=np.int64)
        for _ in range(20):  # until the hosts have measured their sub-envs quick
            remote.send(actions, remote.recv()[4]["env_id"])
        sent_before = [host.connection._seq for host in remote._hosts]
        batches = []
        for _ in range(40):
            ids = remote.recv()[4]["env_id"]
            batches.append(sorted(ids.tolist()))
            remote.send(actions, ids)
        seqs = zip(remote._hosts, sent_before, strict=True)
        requests = sum(host.connection._seq - before for host, before in seqs)
    assert requests <= 44, requests  # one per recv, and a few answered after a wait with nothing
    assert batches.count([0, 1, 2, 3]) + batches.count([4, 5, 6, 7]) >= 36, batches


@pytest.mark.parametrize("host", [0, 1], ids=["lane", "grpc"])
def test_quick_sub_envs_beyond_a_reply_step_right_after_it(servers: list[str], host: int) -> None:
    """A reply carries the batch it was asked for; the host steps its other quick sub-envs right after
    sending it, while the caller works (not when the next request comes)."""
    with RemoteVectorEnv("MixedInfo", 4, address=servers[host], batch_size=2) as remote:
        remote.async_reset(seed=0)
        ids = np.arange(2)
        for _ in range(20):  # until the host has measured its sub-envs quick
            ids = remote.recv()[4]["env_id"]
            remote.send(np.zeros(2, dtype=np.int64), ids)
        sent = ids.tolist()
        ids = remote.recv()[4]["env_id"]  # one round trip: the request carries the actions of `sent`
        replied = time.monotonic()
        assert not set(sent) & set(ids.tolist())
        assert remote._async is not None
        assert remote._async.queued == 0  # the sub-envs of `sent` did not hold the reply up
        time.sleep(0.3)
        last_step_at = remote.get_attr("last_step_at")  # (a synchronous call steps whatever was left)
        assert all(last_step_at[i] < replied + 0.2 for i in sent), (replied, last_step_at)


def test_sub_env_failures(servers: list[str]) -> None:
    """Restart mode: the failing sub-env's episode ends truncated with env_restarted; raise mode: typed error."""
    options: dict[str, Any] = {"kwargs": {"fail_on_step": 2}, "batch_size": 2}
    with RemoteVectorEnv("Raising", 2, address=servers[0], on_env_failure="restart", **options) as remote:
        remote.async_reset(seed=0)
        remote.recv()
        for action in (1, 1):
            remote.send(np.array([action, 0]), [0, 1])
            *_, truncations, infos = remote.recv()
        row = infos["env_id"].tolist().index(0)
        assert truncations[row]
        assert infos["env_restarted"][row]
        assert "boom" in infos["env_restart_reason"][row]
    with RemoteVectorEnv("Raising", 2, address=servers, **options) as remote:
        remote.async_reset(seed=0)
        remote.recv()
        remote.send(np.array([1, 1]), [0, 1])
        remote.recv()
        remote.send(np.array([0, 1]), [0, 1])
        with pytest.raises(RemoteEnvError, match="boom") as caught:
            remote.recv()
        assert caught.value.env_index == 1


def test_mixed_pool(servers: list[str]) -> None:
    """Sub-envs of other kwargs on other hosts in one vector env; spaces that differ are refused."""
    envs = [
        EnvGroup("MixedInfo", 2, {"episode_length": 3}, servers[0]),
        {"id": "MixedInfo", "num_envs": 1, "kwargs": {"episode_length": 9}, "address": servers[1]},
    ]
    lengths = [3, 3, 9]
    local = SyncVectorEnv([lambda n=n: local_make("MixedInfo", episode_length=n) for n in lengths])
    with contextlib.closing(local), RemoteVectorEnv(envs=envs) as remote:
        assert remote.envs_per_host == (2, 1)
        assert remote.get_attr("episode_length") == tuple(lengths)
        assert_same(local.reset(seed=2), remote.reset(seed=2), "reset")
        for _ in range(15):
            actions = local.action_space.sample()
            assert_same(local.step(actions), remote.step(actions), "step")
    with RemoteVectorEnv(envs=envs, batch_size=2) as remote:
        remote.async_reset(seed=2)
        for _ in range(10):
            ids = remote.recv()[4]["env_id"]
            remote.send(np.zeros(len(ids), dtype=np.int64), ids)
    mismatch = [EnvGroup("MixedInfo", 1, address=servers[0]), EnvGroup("Frame", 1, address=servers[1])]
    with pytest.raises(ConfigError, match=r"envs\[1\] \('Frame' .*observation space"):
        RemoteVectorEnv(envs=mismatch)
    with pytest.raises(ConfigError, match="address"):
        RemoteVectorEnv(envs=[EnvGroup("MixedInfo", 1)], address=servers)


def test_envpool_make_adapter(servers: list[str]) -> None:
    """make_envpool: EnvPool's arguments and seeding; its async loop runs with numpy alone."""
    with make_envpool("CartPole-v1", num_envs=4, batch_size=2, seed=3, address=servers) as envs:
        assert envs.single_action_space.n == 2
        envs.async_reset()  # seeds 3..6, as EnvPool's seed=3
        assert envs.np_random_seed == (3, 4, 5, 6)
        steps = 0
        for _ in range(20):
            obs, rewards, terminations, truncations, infos = envs.recv()
            assert obs.shape == (2, 4)
            assert rewards.shape == terminations.shape == truncations.shape == (2,)
            envs.send(np.ones(2, dtype=np.int64), infos["env_id"])
            steps += len(infos["env_id"])
        assert steps == 40
    with pytest.raises(ConfigError, match="env_type"):
        make_envpool("CartPole-v1", "dm", address=servers[0])


def test_lost_worker_restarts_its_sub_envs(servers: list[str]) -> None:
    """Restart mode: a worker that dies mid-flight gets a new session; its sub-envs' episodes end
    truncated (env_restarted), then (NEXT_STEP) return their fresh first observation, then step on."""
    with RemoteVectorEnv("Exiting", 3, address=servers[0], on_env_failure="restart", batch_size=1) as remote:
        remote.async_reset(seed=0)
        first = [remote.recv()[0][0] for _ in range(3)]
        remote.send(np.array([0, 0, 1]), [0, 1, 2])  # sub-env 2's action ends its worker process
        rows = [remote.recv() for _ in range(3)]
        assert sorted(int(r[4]["env_id"][0]) for r in rows) == [0, 1, 2]
        for _, rewards, terminations, truncations, infos in rows:
            assert truncations[0]
            assert not terminations[0]
            assert rewards[0] == 0.0
            assert infos["env_restarted"][0]
            assert "WorkerCrashedError" in infos["env_restart_reason"][0]
        remote.send(np.zeros(3, dtype=np.int64), [0, 1, 2])
        fresh = [remote.recv() for _ in range(3)]
        assert not any(r[3][0] or r[2][0] for r in fresh)  # the fresh episodes' first observations
        assert len({tuple(r[0][0]) for r in fresh}) == 3
        assert all(obs.shape == first[0].shape for obs in first)
        remote.send(np.zeros(3, dtype=np.int64), [0, 1, 2])
        assert sorted(int(remote.recv()[4]["env_id"][0]) for _ in range(3)) == [0, 1, 2]
