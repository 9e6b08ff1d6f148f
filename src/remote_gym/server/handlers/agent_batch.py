"""Serve a batched Parallel session: copies of a PettingZoo env stepped as one vector env over all their agents."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from remote_gym.codec.values import encode_value
from remote_gym.errors import EnvKindError, InvalidActionError, InvalidCallError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.agent_env import create_agent_env, describe_agent_env
from remote_gym.server.handlers.agents import AgentHandler, decode_action, decode_reset
from remote_gym.server.handlers.base import Method, RequestHandler
from remote_gym.server.handlers.spec import CreateSpec


class AgentBatchHandler(AgentHandler):
    """``spec.num_envs`` copies of a Parallel env, as SuperSuit's ``pettingzoo_env_to_vec_env`` + ``concat_vec_envs``.

    Slot ``c * A + i`` is agent ``possible_agents[i]`` of copy ``c`` (``A`` agents per copy). A dead
    agent's slot shows zeros (black death); a copy whose agents are all done resets in the same
    step, its slots' infos then holding ``"final_observation"``.
    """

    API = "parallel"

    def __init__(self, spec: CreateSpec) -> None:
        copies: list[Any] = []
        try:
            for i in range(spec.num_envs):
                copies.append(create_agent_env(dataclasses.replace(spec, env_index=spec.env_index + i)))
        except BaseException:
            for env in copies:
                env.close()
            raise
        super().__init__(copies[0], spec)
        self.copies = copies
        self.agents = list(copies[0].possible_agents)
        space = copies[0].observation_space(self.agents[0])
        action_space = copies[0].action_space(self.agents[0])
        if space.shape is None or action_space.shape is None:
            self.close()
            raise EnvKindError(f"{spec.env_name!r}: a batched session needs array observations and actions")
        if any(
            copies[0].observation_space(a) != space or copies[0].action_space(a) != action_space
            for a in self.agents
        ):
            self.close()
            raise EnvKindError(
                f"{spec.env_name!r}: a batched session needs every agent to have the same spaces"
            )
        self._obs = np.zeros((len(copies) * len(self.agents), *space.shape), dtype=space.dtype)
        self._action_space = action_space

    def describe(self) -> pb.Response:
        """The ``MakeResponse``: the agents and spaces of one copy, and the number of copies."""
        return describe_agent_env(self.env, self.spec, self.API, num_copies=len(self.copies))

    def _put(self, copy: int, observations: dict[Any, Any]) -> None:
        base = copy * len(self.agents)
        rows = self._obs[base : base + len(self.agents)]
        rows[:] = 0
        for i, agent in enumerate(self.agents):
            if agent in observations:
                rows[i] = observations[agent]

    def _reset(self, request: pb.Request) -> pb.Response:
        seed, options = decode_reset(request)
        infos: list[dict[str, Any]] = []
        for c, env in enumerate(self.copies):
            observations, copy_infos = env.reset(seed=None if seed is None else seed + c, options=options)
            self._put(c, observations)
            infos.extend(copy_infos.get(agent, {}) for agent in self.agents)
        resp = pb.Response()
        encode_value(self._obs, resp.reset.observation, path="observations")
        encode_value(infos, resp.reset.info, path="infos")
        return resp

    def _step(self, request: pb.Request) -> pb.Response:
        actions = decode_action(request)
        slots = len(self._obs)
        if not isinstance(actions, np.ndarray) or len(actions) != slots:
            raise InvalidActionError(f"a batched step takes an array of {slots} actions (one per agent slot)")
        rewards = np.zeros(slots, dtype=np.float32)
        terminated = np.zeros(slots, dtype=np.bool_)
        truncated = np.zeros(slots, dtype=np.bool_)
        infos: list[dict[str, Any]] = []
        n = len(self.agents)
        for c, env in enumerate(self.copies):
            live = set(env.agents)
            step = {a: actions[c * n + i] for i, a in enumerate(self.agents) if a in live}
            for agent, action in step.items():
                if not self._action_space.contains(action):
                    raise InvalidActionError(
                        f"action {action!r} of {agent!r} (copy {c}) is not in {self._action_space}"
                    )
            observations, rew, term, trunc, copy_infos = env.step(step)
            for i, agent in enumerate(self.agents):
                rewards[c * n + i] = rew.get(agent, 0.0)
                terminated[c * n + i] = term.get(agent, False)
                truncated[c * n + i] = trunc.get(agent, False)
                infos.append(dict(copy_infos.get(agent, {})))
            if not env.agents:  # every agent is done: the copy starts its next episode now
                for i, agent in enumerate(self.agents):
                    if agent in observations:
                        infos[c * n + i]["final_observation"] = observations[agent]
                observations, _ = env.reset()
            self._put(c, observations)
        resp = pb.Response()
        out = resp.step
        encode_value(self._obs, out.observation, path="observations")
        encode_value(rewards, out.reward, path="rewards")
        encode_value(terminated, out.terminated, path="terminations")
        encode_value(truncated, out.truncated, path="truncations")
        encode_value(infos, out.info, path="infos")
        return resp

    def _call(self, request: pb.Request) -> pb.Response:
        raise InvalidCallError("a batched multi-agent session answers reset, step and render only")

    def _render(self, request: pb.Request) -> pb.Response:
        resp = pb.Response()
        frames = tuple(env.render() for env in self.copies)
        encode_value(frames, resp.render.frame, compress=self._compress, path="render()")
        return resp

    def close_envs(self) -> None:
        """Close every copy."""
        for env in self.copies:
            env.close()

    METHODS: ClassVar[dict[str, Method]] = {
        "reset": _reset,
        "step": _step,
        "render": _render,
        "call": _call,
        "close": RequestHandler.close_request,
    }
