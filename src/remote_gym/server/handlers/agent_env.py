"""Create a multi-agent session's PettingZoo env, and describe it (agents, spaces, state) in a MakeResponse."""

from __future__ import annotations

import importlib
from typing import Any

from remote_gym.codec.requests import server_render_mode
from remote_gym.codec.spaces import encode_space
from remote_gym.codec.values import encode_value
from remote_gym.errors import DependencyNotInstalledError, EnvKindError, UnknownAgentError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.describe import describe_common, encode_optional
from remote_gym.server.handlers.spec import CreateSpec, create_from_entrypoint


def import_pettingzoo() -> Any:
    """The ``pettingzoo`` package, or a DependencyNotInstalledError naming the extra."""
    try:
        return importlib.import_module("pettingzoo")
    except ImportError as exc:
        raise DependencyNotInstalledError(
            "multi-agent sessions need PettingZoo on the server: pip install 'remote-gym[pettingzoo]'"
        ) from exc


def create_agent_env(spec: CreateSpec) -> Any:
    """Create the PettingZoo env ``spec`` names, converted to the API it asks for (``spec.multi_agent``).

    Raises:
        EnvKindError: The entry is a Gymnasium env, or the env is no PettingZoo env, or an AEC env
            PettingZoo cannot turn into a Parallel one.
        DependencyNotInstalledError: PettingZoo is not installed.
    """
    pz = import_pettingzoo()
    server_mode = server_render_mode(spec.render_mode)
    if spec.pettingzoo is not None and is_registered_id(spec.pettingzoo):
        kwargs = dict(spec.kwargs)
        if server_mode is not None:
            kwargs["render_mode"] = server_mode
        env = pz.make(spec.multi_agent, spec.pettingzoo, **kwargs)
    elif spec.pettingzoo is not None:
        module_name, _, attr = spec.pettingzoo.partition(":")
        module = importlib.import_module(module_name)
        factory: Any = module
        if attr:
            for part in attr.split("."):
                factory = getattr(factory, part)
        elif spec.multi_agent == "parallel" and hasattr(module, "parallel_env"):
            factory = module.parallel_env
        else:
            factory = module.env
        kwargs = dict(spec.kwargs)
        if server_mode is not None:
            kwargs["render_mode"] = server_mode
        env = factory(**kwargs)
    elif spec.entrypoint is not None:
        env = create_from_entrypoint(spec)
    else:
        raise EnvKindError(f"{spec.env_name!r} is a Gymnasium env: open it with remote_gym.make")
    return _as_api(pz, env, spec)


def is_registered_id(name: str) -> bool:
    """Whether ``name`` is an id of PettingZoo's registry (``"butterfly/pistonball-v6"``), not a module path."""
    return ":" not in name and ("/" in name or "-v" in name)


def _as_api(pz: Any, env: Any, spec: CreateSpec) -> Any:
    conversions = importlib.import_module("pettingzoo.utils.conversions")
    if isinstance(env, pz.ParallelEnv):
        return conversions.parallel_to_aec(env) if spec.multi_agent == "aec" else env
    if isinstance(env, pz.AECEnv):
        if spec.multi_agent == "aec":
            return env
        if not env.metadata.get("is_parallelizable", False):
            raise EnvKindError(
                f"{spec.env_name!r} is an AEC env that is not parallelizable: open it with RemoteAECEnv"
            )
        return conversions.aec_to_parallel(env)
    raise EnvKindError(
        f"{spec.env_name!r} made a {type(env).__name__}, not a PettingZoo env: open it with remote_gym.make"
    )


def possible_agents(env: Any) -> list[Any]:
    """The env's possible agents, as a list."""
    return list(env.possible_agents)


def check_agent(env: Any, agent: Any) -> None:
    """Refuse an agent name the env never has.

    Raises:
        UnknownAgentError: ``agent`` is not among ``env.possible_agents``.
    """
    if agent not in env.possible_agents:
        raise UnknownAgentError(
            f"{agent!r} is not an agent of this env (possible agents: {env.possible_agents})"
        )


def describe_agent_env(env: Any, spec: CreateSpec, api: str, *, num_copies: int = 0) -> pb.Response:
    """The MakeResponse of a multi-agent session: common fields, then agents, their spaces and the state space."""
    resp = pb.Response()
    make = resp.make
    metadata = describe_common(make, env, spec)
    encode_value(metadata, make.metadata, path="metadata")
    encode_optional(None, make.reward_range, "reward_range")
    described = make.multi_agent
    described.api = api
    described.num_copies = num_copies
    agents = possible_agents(env)
    encode_value(agents, described.possible_agents, path="possible_agents")
    for agent in agents:
        entry = described.spaces.add()
        encode_value(agent, entry.agent, path="agent")
        entry.observation_space.CopyFrom(encode_space(env.observation_space(agent)))
        entry.action_space.CopyFrom(encode_space(env.action_space(agent)))
    state_space = getattr(env, "state_space", None)
    if state_space is not None:
        described.state_space.CopyFrom(encode_space(state_space))
    described.has_state = state_space is not None and callable(getattr(env, "state", None))
    described.max_num_agents = int(getattr(env, "max_num_agents", len(agents)))
    return resp
