"""A vector session's sub-environments split over several worker processes, to use the host's cores."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, cast

import gymnasium as gym
from gymnasium.vector.utils import batch_space

from remote_gym.codec.requests import (
    call_request,
    get_attr_request,
    render_request,
    reset_request,
    set_attr_request,
    step_request,
)
from remote_gym.codec.values import decode_value
from remote_gym.codec.vector import InfoCalls, decode_reset, decode_step
from remote_gym.errors import WorkerCrashedError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.cores import Infos, LocalVectorCore
from remote_gym.server.handlers.shard_helpers import Helper, spawn_helpers
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.vector.infos import replay_infos, shift_calls
from remote_gym.vector.parts import VectorParts
from remote_gym.vector.splits import offsets_of, split_batch, split_sizes

# The session's worker keeps the first share of the sub-envs and forks one helper process per other
# share (before creating any env; the worker has no threads, so forking is safe), or starts it by
# spawn where the session's worker was spawned itself (the helper then connects back over loopback TCP). Helpers serve their
# share with the ordinary worker loop over a socketpair. For every request the worker sends each helper
# its part first, steps its own share meanwhile, then gathers and merges: the client still gets one
# message per step, equal to what one ``SyncVectorEnv`` over all sub-envs would give.

logger = logging.getLogger(__name__)


class ShardedVectorCore:
    """Like :class:`LocalVectorCore`, over ``workers`` processes (this one and forked helpers)."""

    def __init__(self, spec: CreateSpec, workers: int) -> None:
        self.spec = spec
        self.sizes = split_sizes(spec.num_envs, workers)
        self.offsets = offsets_of(self.sizes)
        self._helpers: list[Helper] = []
        try:
            shares = list(zip(self.offsets[1:], self.sizes[1:], strict=True))
            specs = [
                dataclasses.replace(
                    spec, num_envs=size, env_index=spec.env_index + offset, workers=1, per_env_infos=True
                )
                for offset, size in shares
            ]
            spawned = spawn_helpers(specs) if spec.process_start == "spawn" else [None] * len(specs)
            for (offset, size), helper_spec, started in zip(shares, specs, spawned, strict=True):
                self._helpers.append(Helper(helper_spec, offset, size, started))
            self.local = LocalVectorCore(
                dataclasses.replace(spec, num_envs=self.sizes[0], workers=1, per_env_infos=True)
            )
            for helper in self._helpers:
                helper.receive()  # its MakeResponse
        except BaseException:
            self.close()
            raise
        self.num_envs = spec.num_envs
        self.autoreset_mode = self.local.autoreset_mode
        self.single_observation_space = self.local.single_observation_space
        self.single_action_space = self.local.single_action_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        # The shares' last observations and (DISABLED mode) the sub-envs awaiting a reset, checked
        # before any share steps so that a refused step leaves every share as it was.
        self._parts = VectorParts(self.single_observation_space, self.sizes, self.autoreset_mode)

    @property
    def first_env(self) -> gym.Env[Any, Any]:
        """Sub-env 0, whose metadata and spec describe the session."""
        return self.local.first_env

    def _gather(self, helpers: list[Helper], local: Any) -> tuple[Any, list[pb.Response]]:
        """Run ``local()`` (this process's share) while the helpers work, then read every helper's reply.

        Every helper that was sent a request is read, even after a failure, so that each stays in step.
        """
        error: BaseException | None = None
        result = None
        try:
            result = local()
        except Exception as exc:
            error = exc
        replies: list[pb.Response] = []
        for helper in helpers:
            try:
                replies.append(helper.receive())
            except Exception as exc:
                if error is None or isinstance(exc, WorkerCrashedError):
                    error = exc
        if error is not None:
            raise error
        return result, replies

    def reset(self, seed: Any, options: dict[str, Any] | None) -> tuple[Any, Infos]:
        """``SyncVectorEnv.reset`` over all shares; a share the reset mask leaves out is not asked."""
        plan = self._parts.plan_reset(seed, options)
        busy = []
        for k, helper in enumerate(self._helpers, start=1):
            if plan.active[k]:
                helper.send(reset_request(plan.seeds[k], plan.options[k]))
                busy.append((k, helper))
        local, replies = self._gather(
            [helper for _, helper in busy],
            lambda: self.local.reset(plan.seeds[0], plan.options[0]) if plan.active[0] else None,
        )
        calls: InfoCalls = []
        observations: dict[int, Any] = {}
        if local is not None:
            observations[0], local_calls = local
            calls += local_calls
        for (k, _), reply in zip(busy, replies, strict=True):
            # A helper's spec has per_env_infos: its infos are always the sub-envs' own (InfoCalls).
            observations[k], infos = decode_reset(reply.reset)
            calls += shift_calls(cast(InfoCalls, infos), self.offsets[k])
        return self._parts.finish_reset(plan, observations), self._infos(calls)

    def _infos(self, calls: InfoCalls) -> Infos:
        """What the session answers with: the calls themselves, or the vectorised info they make."""
        return calls if self.spec.per_env_infos else replay_infos(calls, self.num_envs)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, Infos]:
        """``SyncVectorEnv.step`` over all shares, the helpers' shares stepping in parallel with ours."""
        self._parts.check_step()
        space = self.single_action_space
        for helper in self._helpers:
            share = split_batch(space, actions, helper.offset, helper.offset + helper.size)
            helper.send(step_request(share, path="actions"))
        local, replies = self._gather(
            self._helpers, lambda: self.local.step(split_batch(space, actions, 0, self.sizes[0]))
        )
        parts = [local]
        for reply, helper in zip(replies, self._helpers, strict=True):
            obs, rewards, terminations, truncations, infos = decode_step(reply.step)
            # A helper's spec has per_env_infos: its infos are always the sub-envs' own (InfoCalls).
            calls = shift_calls(cast(InfoCalls, infos), helper.offset)
            parts.append((obs, rewards, terminations, truncations, calls))
        obs, rewards, terminations, truncations = self._parts.finish_step([part[:4] for part in parts])
        return (
            obs,
            rewards,
            terminations,
            truncations,
            self._infos([call for part in parts for call in part[4]]),
        )

    def render(self) -> tuple[Any, ...]:
        """One frame per sub-env, in order."""
        for helper in self._helpers:
            helper.send(render_request())
        local, replies = self._gather(self._helpers, self.local.render)
        return tuple(local) + tuple(f for reply in replies for f in decode_value(reply.render.frame))

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any], get_attr: bool) -> tuple[Any, ...]:
        """``call``/``get_attr`` on every sub-env, in order."""
        request = get_attr_request(name) if get_attr else call_request(name, args, kwargs)
        for helper in self._helpers:
            helper.send(request)
        local, replies = self._gather(self._helpers, lambda: self.local.call(name, args, kwargs, get_attr))
        return tuple(local) + tuple(r for reply in replies for r in decode_value(reply.call.result))

    def set_attr(self, name: str, values: list[Any]) -> None:
        """``set_attr`` with one value per sub-env."""
        for helper in self._helpers:
            helper.send(set_attr_request(name, values[helper.offset : helper.offset + helper.size]))
        self._gather(self._helpers, lambda: self.local.set_attr(name, values[: self.sizes[0]]))

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised (restart mode), in this process and the helpers."""
        for helper in self._helpers:
            helper.ask_status()
        for helper in self._helpers:
            helper.read_status()
        return self.local.env_restarts() + sum(helper.restarts for helper in self._helpers)

    def close(self) -> None:
        """Close this process's sub-envs and stop the helpers (they close theirs), keeping their restarts."""
        if getattr(self, "local", None) is not None:  # fully made: every helper answers in turn
            self.env_restarts()
        try:
            local = getattr(self, "local", None)
            if local is not None:
                local.close()
        finally:
            for helper in self._helpers:
                helper.stop()
