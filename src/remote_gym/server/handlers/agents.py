"""Serve a multi-agent session's requests against one PettingZoo env: Parallel or AEC."""

from __future__ import annotations

from typing import Any, ClassVar

from remote_gym.codec.values import decode_value, encode_value
from remote_gym.errors import DeadAgentError, DecodeError, InvalidActionError, InvalidCallError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.agent_env import check_agent, describe_agent_env
from remote_gym.server.handlers.base import Method, RequestHandler, check_public_name
from remote_gym.server.handlers.env import _contains
from remote_gym.server.handlers.spec import CreateSpec


def decode_action(request: pb.Request) -> Any:
    """The step request's action.

    Raises:
        InvalidActionError: It could not be decoded.
    """
    try:
        return decode_value(request.step.action)
    except DecodeError as exc:
        raise InvalidActionError(f"the action could not be decoded: {exc}") from exc


def decode_reset(request: pb.Request) -> tuple[int | None, Any]:
    """The reset request's seed (an int or None) and options.

    Raises:
        InvalidCallError: The seed is not an int.
    """
    seed = decode_value(request.reset.seed) if request.reset.HasField("seed") else None
    options = decode_value(request.reset.options) if request.reset.HasField("options") else None
    if seed is not None and not isinstance(seed, int):
        raise InvalidCallError(f"seed must be an int or None, got {type(seed).__name__}")
    return seed, options


def check_agent_action(env: Any, agent: Any, action: Any) -> None:
    """Refuse an action the agent's action space does not hold.

    Raises:
        InvalidActionError: ``action`` is not in ``env.action_space(agent)``.
    """
    space = env.action_space(agent)
    if not _contains(space, action):
        raise InvalidActionError(
            f"action {action!r} of {agent!r} is not an element of its action space {space}"
        )


class AgentHandler(RequestHandler):
    """What Parallel and AEC sessions share: describe, render, calls, close."""

    API = ""

    def __init__(self, env: Any, spec: CreateSpec) -> None:
        super().__init__()
        self.env = env
        self.spec = spec
        self.session_id = spec.session_id
        self._compress = spec.compress

    def describe(self) -> pb.Response:
        """The ``MakeResponse``: the agents, their spaces, the state space."""
        return describe_agent_env(self.env, self.spec, self.API)

    def _render(self, request: pb.Request) -> pb.Response:
        resp = pb.Response()
        encode_value(self.env.render(), resp.render.frame, compress=self._compress, path="render()")
        return resp

    def _call(self, request: pb.Request) -> pb.Response:
        call = request.call
        check_public_name(call.name, "calling or reading")
        args = decode_value(call.args) if call.HasField("args") else []
        if call.name in ("observe", "observation_space", "action_space") and args:
            check_agent(self.env, args[0])
        target = getattr(self.env, call.name)
        if call.get_attr:
            result = target
        else:
            kwargs = decode_value(call.kwargs) if call.HasField("kwargs") else {}
            result = target(*args, **kwargs) if callable(target) else target
        resp = pb.Response()
        encode_value(result, resp.call.result, compress=self._compress, path=call.name)
        return resp

    def close_envs(self) -> None:
        """Close the env."""
        self.env.close()


class ParallelHandler(AgentHandler):
    """A Parallel env: one StepRequest carries every live agent's action."""

    API = "parallel"

    def _reset(self, request: pb.Request) -> pb.Response:
        seed, options = decode_reset(request)
        observations, infos = self.env.reset(seed=seed, options=options)
        resp = pb.Response()
        out = resp.reset
        encode_value(observations, out.observation, path="observations")
        encode_value(infos, out.info, path="infos")
        encode_value(list(self.env.agents), out.agents_state.agents, path="agents")
        return resp

    def _step(self, request: pb.Request) -> pb.Response:
        actions = decode_action(request)
        if not isinstance(actions, dict):
            raise InvalidActionError(
                f"a Parallel step takes a dict of actions by agent, got {type(actions).__name__}"
            )
        env = self.env
        live = set(env.agents)
        for agent, action in actions.items():
            check_agent(env, agent)
            if agent not in live:
                raise DeadAgentError(f"{agent!r} is not alive (agents: {env.agents}); it takes no action")
            check_agent_action(env, agent, action)
        observations, rewards, terminations, truncations, infos = env.step(actions)
        resp = pb.Response()
        out = resp.step
        encode_value(observations, out.observation, path="observations")
        encode_value(rewards, out.reward, path="rewards")
        encode_value(terminations, out.terminated, path="terminations")
        encode_value(truncations, out.truncated, path="truncations")
        encode_value(infos, out.info, path="infos")
        encode_value(list(env.agents), out.agents_state.agents, path="agents")
        return resp

    METHODS: ClassVar[dict[str, Method]] = {
        "reset": _reset,
        "step": _step,
        "render": AgentHandler._render,
        "call": AgentHandler._call,
        "close": RequestHandler.close_request,
    }


class AECHandler(AgentHandler):
    """An AEC env: each reply carries the whole turn, so reading the env between turns costs no request."""

    API = "aec"

    def _turn(self, state: pb.MultiAgentState, observation: pb.Value) -> None:
        env = self.env
        agents = list(env.agents)
        selection = getattr(env, "agent_selection", None)
        encode_value(agents, state.agents, path="agents")
        encode_value(selection, state.agent_selection, path="agent_selection")
        encode_value(dict(env.rewards), state.rewards, path="rewards")
        encode_value(dict(env._cumulative_rewards), state.cumulative_rewards, path="cumulative rewards")
        encode_value(dict(env.terminations), state.terminations, path="terminations")
        encode_value(dict(env.truncations), state.truncations, path="truncations")
        encode_value(dict(env.infos), state.infos, path="infos")
        if selection in agents:  # else last() asks for the observation, and gets what the env says
            encode_value(env.observe(selection), observation, path="observation")

    def _reset(self, request: pb.Request) -> pb.Response:
        seed, options = decode_reset(request)
        self.env.reset(seed=seed, options=options)
        resp = pb.Response()
        self._turn(resp.reset.agents_state, resp.reset.observation)
        return resp

    def _step(self, request: pb.Request) -> pb.Response:
        action = decode_action(request)
        env = self.env
        agent = env.agent_selection
        if env.terminations.get(agent, False) or env.truncations.get(agent, False):
            if action is not None:
                raise DeadAgentError(
                    f"{agent!r} is done: its last step takes the action None, got {action!r}"
                )
        elif action is not None:
            check_agent_action(env, agent, action)
        env.step(action)
        resp = pb.Response()
        self._turn(resp.step.agents_state, resp.step.observation)
        return resp

    METHODS: ClassVar[dict[str, Method]] = {
        "reset": _reset,
        "step": _step,
        "render": AgentHandler._render,
        "call": AgentHandler._call,
        "close": RequestHandler.close_request,
    }
