"""Open a multi-agent session: the make request, the capability check, and what its reply says of the env."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gymnasium.spaces import Space

from remote_gym.capabilities import CAP_PETTINGZOO
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.connection import Connection, split_address
from remote_gym.codec.requests import make_request
from remote_gym.codec.spaces import decode_space
from remote_gym.codec.values import decode_value
from remote_gym.errors import ConfigError, ProtocolVersionError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig


@dataclass(frozen=True)
class AgentEnvDescription:
    """What a multi-agent session's MakeResponse says of its env."""

    env_name: str
    session_id: str
    env_class: str
    possible_agents: list[Any]
    observation_spaces: dict[Any, Space[Any]]
    action_spaces: dict[Any, Space[Any]]
    state_space: Any
    """The env's state space, or None when it has no ``state()``."""
    metadata: dict[str, Any]
    max_num_agents: int
    num_copies: int


def describe_reply(make: pb.MakeResponse) -> AgentEnvDescription:
    """Decode a multi-agent MakeResponse.

    Raises:
        ProtocolVersionError: The server does not list the ``pettingzoo`` capability (an older server
            would have made a Gymnasium env and ignored the request's multi-agent field).
    """
    if CAP_PETTINGZOO not in make.capabilities:
        raise ProtocolVersionError(
            f"the server (remote-gym {make.server_version or '?'}) does not serve multi-agent envs: "
            f"it lacks the {CAP_PETTINGZOO!r} capability"
        )
    described = make.multi_agent
    agents = [decode_value(entry.agent) for entry in described.spaces]
    return AgentEnvDescription(
        env_name=make.env_name,
        session_id=make.session_id,
        env_class=make.env_class,
        possible_agents=decode_value(described.possible_agents),
        observation_spaces={
            a: decode_space(e.observation_space) for a, e in zip(agents, described.spaces, strict=True)
        },
        action_spaces={
            a: decode_space(e.action_space) for a, e in zip(agents, described.spaces, strict=True)
        },
        state_space=decode_space(described.state_space) if described.has_state else None,
        metadata=decode_value(make.metadata) or {},
        max_num_agents=described.max_num_agents,
        num_copies=described.num_copies,
    )


def connection_config(config: ClientConfig | None, timeouts: Timeouts | None) -> ClientConfig:
    """The client options, with ``timeouts`` over them when given."""
    config = config or ClientConfig()
    return dataclasses.replace(config, timeouts=timeouts) if timeouts is not None else config


def kwargs_json(kwargs: Mapping[str, Any] | None) -> str:
    """The env kwargs as the JSON object a make request carries.

    Raises:
        ConfigError: A value is not JSON.
    """
    try:
        return json.dumps(dict(kwargs or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"environment kwargs must be JSON values: {exc}") from exc


def agent_make_request(
    env: str | None,
    api: str,
    *,
    kwargs: Mapping[str, Any] | None,
    render_mode: str | None,
    config: ClientConfig,
    num_copies: int = 0,
) -> pb.Request:
    """The first request of a multi-agent session (``num_copies`` > 0: a batch of Parallel copies)."""
    return make_request(
        env,
        kwargs_json=kwargs_json(kwargs),
        render_mode=render_mode,
        compression=config.compression,
        num_envs=num_copies,
        multi_agent=api,
    )


def open_agent_session(
    address: str,
    request: pb.Request,
    *,
    tls: TLSConfig | None,
    config: ClientConfig,
    token: str | TokenAuth | None,
) -> tuple[Connection, AgentEnvDescription]:
    """Connect to ``address``, make the session ``request`` asks for, and decode its description.

    Raises:
        ConnectError: The server could not be reached.
        EnvKindError: The env is a Gymnasium env (or no PettingZoo env).
        ProtocolVersionError: The server has no multi-agent sessions.
        EnvNotFoundError, PermissionDeniedError, RemoteEnvError: As for a Gymnasium env.
    """
    host, port = split_address(address)
    auth = TokenAuth(token) if isinstance(token, str) else token
    connection = Connection(host, port, tls=tls, config=config, auth=auth)
    try:
        reply = connection.request(
            request,
            timeout=max(config.timeouts.call or 0.0, config.timeouts.connect) or None,
            what="creating the environment on",
        ).make
        return connection, describe_reply(reply)
    except BaseException:
        connection.close()
        raise
