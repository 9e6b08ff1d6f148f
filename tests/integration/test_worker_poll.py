"""Polling changes nothing but the timing: the server polling a worker for its reply, and the client's
and the server's event loops polling for the next reply or request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_match import check_environments_match

from remote_gym.client.config import ClientConfig
from remote_gym.client.env import RemoteEnvironment
from remote_gym.codec.values import encode_value
from remote_gym.errors import WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.factory import create_handler
from remote_gym.server.handlers.sequencer import Sequencer
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.hosting.workers import WorkerProcess, Zygote
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from remote_gym.wire.polling import usable_cpus

pytestmark = pytest.mark.integration

POLL_S = 0.005  # generous: on a busy test machine a quick reply still comes within it


def _requests(steps: int, *, render: bool = False) -> list[bytes]:
    out = []
    reset = pb.Request(seq=1)
    encode_value(7, reset.reset.seed)
    out.append(reset.SerializeToString())
    for i in range(steps):
        step = pb.Request(seq=len(out) + 1)
        encode_value(np.int64(i % 2), step.step.action)
        out.append(step.SerializeToString())
        if render:
            out.append(pb.Request(seq=len(out) + 1, render=pb.RenderRequest()).SerializeToString())
    return out


def _local_replies(spec: CreateSpec, requests: list[bytes]) -> list[bytes]:
    handler = create_handler(spec)
    try:
        answer = Sequencer(handler.handle).answer
        return [answer(data) for data in requests]
    finally:
        handler.close()


async def _with_worker(spec: CreateSpec, body: Any) -> Any:
    zygote = Zygote()
    await zygote.start()
    try:
        worker = await zygote.spawn(spec.to_json())
        try:
            made = pb.Response.FromString(await worker.first_reply())
            assert made.WhichOneof("kind") == "make"
            return await body(worker)
        finally:
            await worker.stop()
    finally:
        await zygote.stop()


@pytest.mark.parametrize(
    ("env", "render"),
    [("CartPole-v1", False), (IMPORTABLE_ENV_IDS["Frame"], True)],
    ids=["cartpole", "frames"],
)
def test_polled_replies_equal_the_local_answers(env: str, render: bool) -> None:
    """Replies picked up by polling (small ones, and 100 kB frames read in pieces) are exactly the local ones."""
    spec = CreateSpec(
        env_name="e",
        gym_id=env,
        render_mode="rgb_array" if render else None,
        compress=False,
    )
    requests = _requests(20, render=render)  # CartPole's episode does not end within 20 steps

    async def body(worker: WorkerProcess) -> tuple[list[bytes], int]:
        replies = [await worker.request(data, POLL_S) for data in requests]
        return replies, worker.polled

    replies, polled = asyncio.run(_with_worker(spec, body))
    assert replies == _local_replies(spec, requests)
    assert polled > 0


def test_slow_replies_are_awaited_and_then_no_longer_polled() -> None:
    """A reply slower than the poll budget still arrives; the worker's running average then stops polling."""
    spec = CreateSpec(
        env_name="e", gym_id=IMPORTABLE_ENV_IDS["Hanging"], kwargs={"hang_s": 0.05, "hang_action": 1}
    )
    requests = _requests(6)  # actions 0, 1, 0, 1, ...: every second step sleeps 50 ms

    async def body(worker: WorkerProcess) -> tuple[list[bytes], tuple[int, int], tuple[int, int]]:
        replies = [await worker.request(data, POLL_S) for data in requests[:3]]
        after_first_slow = worker.polled, worker.poll_misses
        replies += [await worker.request(data, POLL_S) for data in requests[3:]]
        return replies, after_first_slow, (worker.polled, worker.poll_misses)

    replies, after_first_slow, at_end = asyncio.run(_with_worker(spec, body))
    assert replies == _local_replies(spec, requests)
    assert after_first_slow[1] >= 1  # the slow step's poll gave up
    assert at_end == after_first_slow  # the running average is far above the budget now: no more polls


def test_requests_after_a_pause_are_answered() -> None:
    """Requests that come long after the last reply, polled for or not, lose nothing."""
    spec = CreateSpec(env_name="e", gym_id="CartPole-v1")
    requests = _requests(12)

    async def body(worker: WorkerProcess) -> list[bytes]:
        replies = []
        for i, data in enumerate(requests):
            if i % 3 == 0:
                await asyncio.sleep(0.02)  # far beyond the poll budget
            replies.append(await worker.request(data, POLL_S if i % 2 == 0 else 0.0))
        return replies

    assert asyncio.run(_with_worker(spec, body)) == _local_replies(spec, requests)


def test_worker_dying_while_polled_is_a_crash() -> None:
    """A worker that exits while its reply is being polled for raises WorkerCrashedError."""
    spec = CreateSpec(env_name="e", gym_id=IMPORTABLE_ENV_IDS["Exiting"], kwargs={"exit_action": 1})
    requests = _requests(2)  # reset, step 0, step 1 (exits)

    async def body(worker: WorkerProcess) -> int | None:
        await worker.request(requests[0], POLL_S)
        await worker.request(requests[1], POLL_S)
        with pytest.raises(WorkerCrashedError):
            await worker.request(requests[2], POLL_S)
        return worker.exitcode

    assert asyncio.run(_with_worker(spec, body)) == 3


@pytest.mark.skipif(usable_cpus() < 2, reason="nobody polls with one usable CPU")
@pytest.mark.parametrize("hosting", ["process", "inline"])
def test_client_and_server_loops_poll_for_a_quick_exchange(hosting: str) -> None:
    """With generous budgets a lone client's replies, and the server's next requests, are picked up
    by polling; the trajectory is still exactly the local env's."""
    local = gym.make("CartPole-v1")
    with (
        running_server(hosting=hosting, spin_us=10_000, same_host_lane=False) as server,  # gRPC's loops
        RemoteEnvironment(address=server.address, config=ClientConfig(spin_us=10_000)) as remote,
    ):
        check_environments_match(local, remote, num_steps=200, seed=4)
        client_selector = remote._conn().driver.selector
        assert client_selector is not None
        assert client_selector.polled > 0
        assert server._selector is not None
        assert server._selector.polled > 0
    local.close()


def test_clients_that_never_poll_get_the_same_answers() -> None:
    """spin_us=0 and spin_us=0: every wait sleeps, and nothing else changes."""
    local = gym.make("CartPole-v1")
    with (
        running_server(spin_us=0) as server,
        RemoteEnvironment(address=server.address, config=ClientConfig(spin_us=0)) as remote,
    ):
        check_environments_match(local, remote, num_steps=100, seed=5)
        client_selector = remote._conn().driver.selector
        assert client_selector is None or client_selector.polled == 0
        assert server._selector is None or server._selector.polled == 0
    local.close()


@pytest.mark.skipif(usable_cpus() < 2, reason="nobody polls with one usable CPU")
def test_the_server_loop_polls_only_while_a_session_has_it_to_itself() -> None:
    """Two sessions stepping in turn switch the loop's polling off; one alone switches it back on."""
    with (
        running_server(spin_us=300, same_host_lane=False) as server,  # the gRPC path's loop
        RemoteEnvironment(address=server.address) as first,
        RemoteEnvironment(address=server.address) as second,
    ):
        selector = server._selector
        assert selector is not None
        first.reset(seed=0)
        second.reset(seed=1)
        seen_off = False
        for i in range(10):  # in turn: each request comes right after the other session's
            first.step(i % 2)
            second.step(i % 2)
            seen_off = seen_off or not selector.enabled
        assert seen_off
        time.sleep(0.05)  # longer than the 10 ms after which a session counts as alone
        first.step(0)
        first.step(1)
        assert selector.enabled
