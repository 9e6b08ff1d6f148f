"""RemoteAECEnv: a PettingZoo AECEnv whose env runs on a remote-gym server."""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv

from remote_gym.client.agent_base import AgentSession, SessionEnvMethods
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.codec.requests import reset_request, step_request
from remote_gym.codec.values import decode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

_NO_OBSERVATION = object()


class RemoteAECEnv(SessionEnvMethods, AECEnv[Any, Any, Any]):  # type: ignore[misc]  # PettingZoo is untyped
    """A PettingZoo AEC env hosted by a remote-gym server, used exactly like the local one.

    Each :meth:`reset` and :meth:`step` reply carries the whole turn: the agents, the selected
    agent and its observation, rewards, cumulative rewards, terminations, truncations and infos.
    So :meth:`last`, :meth:`agent_iter` and reading those attributes cost no request; only
    :meth:`observe` of another agent than the selected one asks the server.

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
        EnvKindError: The server's env is a Gymnasium env.
        ProtocolVersionError: The server has no multi-agent sessions (capability ``"pettingzoo"``).
        ConnectError, EnvNotFoundError, PermissionDeniedError, RemoteEnvError: As for RemoteEnvironment.

    Example:
        >>> env = RemoteAECEnv("127.0.0.1:56765", env="connect_four")  # doctest: +SKIP
        >>> env.reset(seed=0)  # doctest: +SKIP
        >>> for agent in env.agent_iter():  # doctest: +SKIP
        ...     observation, reward, termination, truncation, info = env.last()
        ...     env.step(None if termination or truncation else env.action_space(agent).sample())
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
        super().__init__()
        self._session = AgentSession(
            "aec",
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
        self.rewards: dict[Any, Any] = {}
        self._cumulative_rewards: dict[Any, Any] = {}
        self.terminations: dict[Any, Any] = {}
        self.truncations: dict[Any, Any] = {}
        self.infos: dict[Any, Any] = {}
        self._observation: Any = _NO_OBSERVATION
        if described.state_space is not None:
            self.state_space = described.state_space

    def __repr__(self) -> str:
        return f"RemoteAECEnv({self._session.describe()})"

    def __str__(self) -> str:
        return f"RemoteAECEnv<{self._session.description.env_name}>"

    def _take_turn(self, state: pb.MultiAgentState, observation: pb.Value) -> None:
        self.agents = decode_value(state.agents)
        self.agent_selection = decode_value(state.agent_selection)
        self.rewards = decode_value(state.rewards)
        self._cumulative_rewards = decode_value(state.cumulative_rewards)
        self.terminations = decode_value(state.terminations)
        self.truncations = decode_value(state.truncations)
        self.infos = decode_value(state.infos)
        self._observation = decode_value(observation) if observation.WhichOneof("kind") else _NO_OBSERVATION

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Reset the remote env; the first turn is then readable here (:meth:`last`, attributes)."""
        reply = self._session.conn().request(reset_request(seed, options), what="reset on").reset
        self._take_turn(reply.agents_state, reply.observation)

    def step(self, action: Any) -> None:
        """Act for the selected agent (None for one that is done); the next turn is then readable here.

        Raises:
            DeadAgentError: The selected agent is done and ``action`` is not None.
            InvalidActionError: ``action`` is not in the agent's action space (the env never saw it).
            RemoteEnvError: The env's step raised.
        """
        reply = self._session.conn().request(step_request(action), what="step on").step
        self._take_turn(reply.agents_state, reply.observation)
        if self.render_mode == "human":
            self._session.render()

    def observe(self, agent: Any) -> Any:
        """The agent's observation: the selected agent's came with the turn; another's is asked for.

        Raises:
            UnknownAgentError: ``agent`` is not a possible agent of the env.
        """
        if agent == self.agent_selection and self._observation is not _NO_OBSERVATION:
            return self._observation
        return self._session.call("observe", agent)
