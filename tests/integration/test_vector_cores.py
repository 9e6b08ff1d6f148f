"""Vector handlers without a gRPC server: every core answers as one SyncVectorEnv, in milliseconds.

The single-process core runs in this process; the core split over helper processes runs in a worker
forked by the server's zygote, as in a session (forking helpers from this multi-threaded test process
would not be safe).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from remote_gym.codec.requests import reset_request, step_request
from remote_gym.codec.values import decode_value
from remote_gym.codec.vector import decode_infos, decode_step
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.factory import create_handler
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.hosting.workers import Zygote
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.vector.infos import replay_infos

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NUM_ENVS = 4
STEPS = 25
ENV_IDS = {
    "FrozenLake": "FrozenLake-v1",
    "MixedInfo": IMPORTABLE_ENV_IDS["MixedInfo"],
    "CartPole": "CartPole-v1",  # empty infos, but for the episode ends of SAME_STEP
}
MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]


def _spec(gym_id: str, mode: AutoresetMode, workers: int) -> CreateSpec:
    return CreateSpec(
        env_name=gym_id,
        gym_id=gym_id,
        num_envs=NUM_ENVS,
        autoreset_mode=mode.name,
        workers=workers,
        compress=False,
    )


def _decode(response: pb.Response) -> tuple[Any, ...]:
    kind = response.WhichOneof("kind")
    assert kind in ("reset", "step"), response
    if kind == "reset":
        return decode_value(response.reset.observation), decode_infos(response.reset)
    return decode_step(response.step)


def _trajectory(gym_id: str, mode: AutoresetMode) -> tuple[list[pb.Request], list[tuple[Any, ...]]]:
    """Requests of a seeded run with random actions, and what one local SyncVectorEnv answers to them."""
    local = SyncVectorEnv([lambda: gym.make(gym_id) for _ in range(NUM_ENVS)], autoreset_mode=mode)
    rng = np.random.default_rng(5)
    requests, expected = [reset_request(11, None)], [local.reset(seed=11)]
    for _ in range(STEPS):
        actions = rng.integers(0, local.single_action_space.n, size=NUM_ENVS)  # type: ignore[attr-defined]
        requests.append(step_request(actions))
        expected.append(local.step(actions))
    local.close()
    return requests, expected


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("env", ENV_IDS)
def test_local_core_equals_sync_vector_env(env: str, mode: AutoresetMode) -> None:
    """The in-process core's replies decode to exactly what a local SyncVectorEnv returns."""
    requests, expected = _trajectory(ENV_IDS[env], mode)
    handler = create_handler(_spec(ENV_IDS[env], mode, workers=1))
    try:
        for i, (request, want) in enumerate(zip(requests, expected, strict=True)):
            assert data_equivalence(_decode(handler.handle(request)), want, exact=True), f"request {i}"
    finally:
        handler.close()


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("env", ENV_IDS)
def test_sharded_core_equals_sync_vector_env(env: str, mode: AutoresetMode) -> None:
    """A session split over three processes (2+1+1 sub-envs) answers exactly as one SyncVectorEnv."""
    requests, expected = _trajectory(ENV_IDS[env], mode)

    async def run() -> list[tuple[Any, ...]]:
        zygote = Zygote()
        await zygote.start()
        worker = await zygote.spawn(_spec(ENV_IDS[env], mode, workers=3).to_json())
        try:
            assert pb.Response.FromString(await worker.first_reply()).make.num_envs == NUM_ENVS
            got = []
            for seq, request in enumerate(requests, start=1):
                request.seq = seq
                got.append(_decode(pb.Response.FromString(await worker.request(request.SerializeToString()))))
            return got
        finally:
            await worker.stop()
            await zygote.stop()

    for i, (got, want) in enumerate(zip(asyncio.run(run()), expected, strict=True)):
        assert data_equivalence(got, want, exact=True), f"request {i}"


def test_per_env_infos_carry_only_the_sub_envs_with_an_info() -> None:
    """A part's sub-env infos leave out the empty ones (they add nothing to a vectorised info): in
    SAME_STEP mode CartPole's only infos are those of the sub-envs whose episode just ended."""
    mode = AutoresetMode.SAME_STEP
    requests, expected = _trajectory("CartPole-v1", mode)
    spec = dataclasses.replace(_spec("CartPole-v1", mode, workers=1), per_env_infos=True)
    handler = create_handler(spec)
    ended = 0
    try:
        _decode(handler.handle(requests[0]))  # the reset
        for i, (request, want) in enumerate(zip(requests[1:], expected[1:], strict=True)):
            *results, calls = _decode(handler.handle(request))
            assert data_equivalence(tuple(results), want[:4], exact=True), f"step {i}"
            done = np.flatnonzero(want[2] | want[3]).tolist()
            assert [index for index, _ in calls] == done, f"step {i}"
            assert data_equivalence(replay_infos(calls, NUM_ENVS), want[4], exact=True), f"step {i}"
            ended += len(done)
    finally:
        handler.close()
    assert ended > 0  # the run did end episodes (the seeded actions make some)
