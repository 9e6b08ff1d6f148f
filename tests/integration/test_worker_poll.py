"""Polling (ServerConfig.worker_spin_us) changes nothing but the timing: the server polling a worker for
its reply, and a worker polling for the next request."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from remote_gym.codec.values import encode_value
from remote_gym.errors import WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handler import CreateSpec
from remote_gym.server.pool import Worker, Zygote
from remote_gym.server.sequencer import Sequencer
from remote_gym.server.vector_handler import create_handler
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS

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
            made = pb.Response.FromString(await worker.receive())
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
        poll_us=POLL_S * 1e6,
    )
    requests = _requests(20, render=render)  # CartPole's episode does not end within 20 steps

    async def body(worker: Worker) -> tuple[list[bytes], int]:
        replies = [await worker.request(data, POLL_S, worker_may_poll=True) for data in requests]
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

    async def body(worker: Worker) -> tuple[list[bytes], tuple[int, int], tuple[int, int]]:
        replies = [await worker.request(data, POLL_S) for data in requests[:3]]
        after_first_slow = worker.polled, worker.poll_misses
        replies += [await worker.request(data, POLL_S) for data in requests[3:]]
        return replies, after_first_slow, (worker.polled, worker.poll_misses)

    replies, after_first_slow, at_end = asyncio.run(_with_worker(spec, body))
    assert replies == _local_replies(spec, requests)
    assert after_first_slow[1] >= 1  # the slow step's poll gave up
    assert at_end == after_first_slow  # the running average is far above the budget now: no more polls


def test_requests_slower_than_the_workers_poll_are_answered() -> None:
    """A client pausing longer than the worker polls (and a worker not allowed to poll) loses nothing."""
    spec = CreateSpec(env_name="e", gym_id="CartPole-v1", poll_us=POLL_S * 1e6)
    requests = _requests(12)

    async def body(worker: Worker) -> list[bytes]:
        replies = []
        for i, data in enumerate(requests):
            if i % 3 == 0:
                await asyncio.sleep(0.02)  # far beyond the worker's poll budget
            replies.append(await worker.request(data, POLL_S, worker_may_poll=i % 2 == 0))
        return replies

    assert asyncio.run(_with_worker(spec, body)) == _local_replies(spec, requests)


def test_worker_dying_while_polled_is_a_crash() -> None:
    """A worker that exits while its reply is being polled for raises WorkerCrashedError."""
    spec = CreateSpec(env_name="e", gym_id=IMPORTABLE_ENV_IDS["Exiting"], kwargs={"exit_action": 1})
    requests = _requests(2)  # reset, step 0, step 1 (exits)

    async def body(worker: Worker) -> int | None:
        await worker.request(requests[0], POLL_S)
        await worker.request(requests[1], POLL_S)
        with pytest.raises(WorkerCrashedError):
            await worker.request(requests[2], POLL_S)
        return worker.exitcode

    assert asyncio.run(_with_worker(spec, body)) == 3
