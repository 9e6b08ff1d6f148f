"""Server <-> worker exchanges pair every reply with its own request, whatever is cancelled when."""

from __future__ import annotations

import asyncio
import random

import pytest

from remote_gym.codec.values import encode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.hosting.workers import WorkerProcess, Zygote
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

_SPEC = CreateSpec(
    env_name="Hanging",
    gym_id=IMPORTABLE_ENV_IDS["Hanging"],
    kwargs={"hang_s": 0.003, "hang_action": 1},  # action 1 takes a few ms: cancels land mid-step too
    compress=False,
).to_json()


def _reset(seq: int) -> bytes:
    request = pb.Request(seq=seq)
    encode_value(7, request.reset.seed)
    return request.SerializeToString()


def _step(seq: int, action: int) -> bytes:
    request = pb.Request(seq=seq)
    encode_value(action, request.step.action)
    return request.SerializeToString()


async def _two_workers() -> tuple[Zygote, WorkerProcess, WorkerProcess]:
    zygote = Zygote()
    await zygote.start()
    workers = []
    for _ in range(2):
        worker = await zygote.spawn(_SPEC)
        assert pb.Response.FromString(await worker.first_reply()).WhichOneof("kind") == "make"
        workers.append(worker)
    return zygote, workers[0], workers[1]


async def _cancel_after(worker: WorkerProcess, data: bytes, loop_turns: int, delay_s: float) -> None:
    """Start ``worker.request(data)``, let the loop turn ``loop_turns`` times (then sleep ``delay_s``), cancel."""
    task = asyncio.ensure_future(worker.request(data))
    for _ in range(loop_turns):
        await asyncio.sleep(0)
    if delay_s:
        await asyncio.sleep(delay_s)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_cancelling_at_every_await_point_never_shifts_a_reply() -> None:
    """A request cancelled at any point, then sent again (once or after another cancel), gets its own reply.

    This is what a session does when its client's stream breaks mid-request, once or twice, and the
    client resumes and re-sends the request: each reply must still be the one for that request.
    """
    rng = random.Random(0)

    async def scenario() -> tuple[int, int]:
        zygote, tested, reference = await _two_workers()
        cancels = 0
        try:
            seq = 1
            assert await tested.request(_reset(seq)) == await reference.request(_reset(seq))
            for turns in range(0, 40):
                for abandon in (1, 2):  # abandoned once, or twice (cut again while the server still waits)
                    seq += 1
                    action = rng.randrange(2)
                    data = _step(seq, action)
                    for _ in range(abandon):
                        delay = rng.choice((0.0, 0.0005, 0.002, 0.004))
                        await _cancel_after(tested, data, turns, delay)
                        cancels += 1
                    got, want = await tested.request(data), await reference.request(data)
                    assert got == want, f"seq {seq} after {abandon} cancel(s) at turn {turns}"
                    # The request after it is answered in step too (no reply is one step late).
                    seq += 1
                    data = _step(seq, 0)
                    assert await tested.request(data) == await reference.request(data)
            return cancels, tested.dropped_replies
        finally:
            for worker in (tested, reference):
                await worker.stop()
            await zygote.stop()

    cancels, dropped = asyncio.run(scenario())
    assert cancels == 120
    assert dropped > 0  # some cancelled requests were applied; their late replies were dropped


def test_status_questions_never_disturb_the_requests() -> None:
    """Status questions asked during a long step, abandoned or shared, leave every reply paired as it was.

    A worker answers a status question once the request in hand is answered; askers at the same time
    share one question, and a question whose asker gave up is still answered (not counted as a
    dropped reply).
    """

    async def scenario() -> None:
        zygote = Zygote()
        await zygote.start()
        spec = dict(_SPEC, kwargs={"hang_s": 0.3, "hang_action": 1})
        worker = await zygote.spawn(spec)
        try:
            assert pb.Response.FromString(await worker.first_reply()).WhichOneof("kind") == "make"
            assert pb.Response.FromString(await worker.request(_reset(1))).WhichOneof("kind") == "reset"
            slow = asyncio.ensure_future(worker.request(_step(2, 1)))  # 0.3 s in the env
            await asyncio.sleep(0.05)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(worker.status(), 0.05)  # gives up while the step runs
            first, second = await asyncio.gather(worker.status(), worker.status())
            assert first is second  # one question, shared
            assert (first.env_restarts, first.quiet_s, first.lane_requests) == (0, None, None)
            assert pb.Response.FromString(await slow).WhichOneof("kind") == "step"
            assert pb.Response.FromString(await worker.request(_step(3, 0))).WhichOneof("kind") == "step"
            assert worker.dropped_replies == 0
        finally:
            await worker.stop()
            await zygote.stop()

    asyncio.run(scenario())
