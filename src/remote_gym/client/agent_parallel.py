"""RemoteParallelEnv: a PettingZoo ParallelEnv whose env runs on a remote-gym server."""

from __future__ import annotations

from typing import Any

from pettingzoo import ParallelEnv

from remote_gym.client.agent_base import AgentSession, SessionEnvMethods
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.codec.requests import reset_request, step_request
from remote_gym.codec.values import decode_value
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig


class RemoteParallelEnv(SessionEnvMethods, ParallelEnv[Any, Any, Any]):  # type: ignore[misc]  # PettingZoo is untyped
    """A PettingZoo Parallel env hosted by a remote-gym server, used exactly like the local one.

    One message per :meth:`step` carries every agent's action and brings back every agent's
    observation, reward, termination, truncation and info, and the agents alive after it.

    Args:
        address: ``"host:port"`` of the server.
        env: Name of the environment among those the server hosts; None for its default.
        kwargs: Keyword arguments for the environment (those the operator allows).
        render_mode: None, ``"rgb_array"`` or ``"human"`` (the server's frames in a local window).
        tls: TLS settings; None for none (local credentials on loopback).
        timeouts: Connect and per-call timeouts.
        config: Other client options.
        token: Bearer token the server requires.

    Raises:
        EnvKindError: The server's env is a Gymnasium env, or an AEC env that is not parallelizable.
        ProtocolVersionError: The server has no multi-agent sessions (capability ``"pettingzoo"``).
        ConnectError, EnvNotFoundError, PermissionDeniedError, RemoteEnvError: As for RemoteEnvironment.

    Example:
        >>> env = RemoteParallelEnv("127.0.0.1:56765", env="pistonball")  # doctest: +SKIP
        >>> observations, infos = env.reset(seed=0)  # doctest: +SKIP
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        env: str | None = None,
        kwargs: dict[str, Any] | None = None,
        render_mode: str | None = None,
        tls: TLSConfig | None = None,
        timeouts: Timeouts | None = None,
        config: ClientConfig | None = None,
        token: str | TokenAuth | None = None,
    ) -> None:
        self._session = AgentSession(
            "parallel",
            address,
            env=env,
            kwargs=kwargs,
            render_mode=render_mode,
            tls=tls,
            timeouts=timeouts,
            config=config,
            token=token,
        )
        described = self._session.description
        self.metadata = described.metadata
        self.possible_agents = list(described.possible_agents)
        self.agents: list[Any] = []
        self.observation_spaces = dict(described.observation_spaces)
        self.action_spaces = dict(described.action_spaces)
        self.render_mode = render_mode
        self.session_id = described.session_id
        if described.state_space is not None:
            self.state_space = described.state_space

    def __repr__(self) -> str:
        return f"RemoteParallelEnv({self._session.describe()})"

    def __str__(self) -> str:
        return f"RemoteParallelEnv<{self._session.description.env_name}>"

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[Any, Any], dict[Any, dict[str, Any]]]:
        """Reset the remote env; the observations and infos of the agents alive after it."""
        reply = self._session.conn().request(reset_request(seed, options), what="reset on").reset
        self.agents = decode_value(reply.agents_state.agents)
        return decode_value(reply.observation), decode_value(reply.info)

    def step(self, actions: dict[Any, Any]) -> tuple[dict[Any, Any], ...]:
        """Step the remote env with every live agent's action, in one message.

        Raises:
            UnknownAgentError: An action is for an agent the env never has.
            DeadAgentError: An action is for an agent no longer alive.
            InvalidActionError: An action is not in its agent's action space (the env never saw it).
            RemoteEnvError: The env's step raised.
        """
        reply = self._session.conn().request(step_request(dict(actions), path="actions"), what="step on").step
        self.agents = decode_value(reply.agents_state.agents)
        result = (
            decode_value(reply.observation),
            decode_value(reply.reward),
            decode_value(reply.terminated),
            decode_value(reply.truncated),
            decode_value(reply.info),
        )
        if self.render_mode == "human":
            self._session.render()
        return result
