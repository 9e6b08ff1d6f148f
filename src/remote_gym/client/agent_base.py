"""What both remote PettingZoo envs share: the session, the agents' spaces, render, state, close."""

from __future__ import annotations

from typing import Any, TypeVar

import gymnasium as gym
import numpy as np

from remote_gym._constants import DEFAULT_PORT
from remote_gym.client.agent_session import (
    AgentEnvDescription,
    agent_make_request,
    connection_config,
    open_agent_session,
)
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.connection import Connection
from remote_gym.client.viewer import FrameViewer
from remote_gym.codec.requests import call_request, render_request
from remote_gym.codec.values import decode_value
from remote_gym.errors import EnvClosedError, UnknownAgentError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

_T = TypeVar("_T", bound="SessionEnvMethods")


class SessionEnvMethods:
    """What a remote Parallel env and a remote AEC env do alike: ask their :class:`AgentSession`.

    A mixin placed before PettingZoo's own base class; also a context manager whose exit closes.
    """

    _session: AgentSession
    possible_agents: list[Any]

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def observation_space(self, agent: Any) -> gym.Space[Any]:
        """The agent's observation space (see :meth:`AgentSession.observation_space`)."""
        return self._session.observation_space(agent)

    def action_space(self, agent: Any) -> gym.Space[Any]:
        """The agent's action space (see :meth:`AgentSession.action_space`)."""
        return self._session.action_space(agent)

    def state(self) -> Any:
        """The env's global state, from the server."""
        return self._session.state()

    def render(self) -> Any:
        """The server's frame (see :meth:`AgentSession.render`)."""
        return self._session.render()

    def call(self, name: str, *args: Any) -> Any:
        """Call a public method of the remote env and return its result."""
        return self._session.call(name, *args)

    def close(self) -> None:
        """End the session; idempotent."""
        self._session.close()

    @property
    def max_num_agents(self) -> int:
        """The number of possible agents."""
        return self._session.description.max_num_agents or len(self.possible_agents)


class AgentSession:
    """A multi-agent session and what its env is; the remote envs hold one (composition, not a base:
    each of them derives from PettingZoo's own class)."""

    def __init__(
        self,
        api: str,
        address: str | None,
        *,
        env: str | None,
        kwargs: dict[str, Any] | None,
        render_mode: str | None,
        tls: TLSConfig | None,
        timeouts: Timeouts | None,
        config: ClientConfig | None,
        token: str | TokenAuth | None,
    ) -> None:
        self._closed = False
        self._viewer: FrameViewer | None = None
        self.render_mode = render_mode
        config = connection_config(config, timeouts)
        request = agent_make_request(env, api, kwargs=kwargs, render_mode=render_mode, config=config)
        self.connection: Connection
        self.description: AgentEnvDescription
        self.connection, self.description = open_agent_session(
            address or f"127.0.0.1:{DEFAULT_PORT}", request, tls=tls, config=config, token=token
        )

    def conn(self) -> Connection:
        """The session's connection.

        Raises:
            EnvClosedError: The env was closed.
        """
        if self._closed:
            raise EnvClosedError(f"the remote env {self.description.env_name!r} is closed")
        return self.connection

    def observation_space(self, agent: Any) -> gym.Space[Any]:
        """The agent's observation space (the same object on every call).

        Raises:
            UnknownAgentError: ``agent`` is not a possible agent of the env.
        """
        try:
            return self.description.observation_spaces[agent]
        except KeyError:
            raise UnknownAgentError(f"{agent!r} is not an agent of this env") from None

    def action_space(self, agent: Any) -> gym.Space[Any]:
        """The agent's action space (the same object on every call).

        Raises:
            UnknownAgentError: ``agent`` is not a possible agent of the env.
        """
        try:
            return self.description.action_spaces[agent]
        except KeyError:
            raise UnknownAgentError(f"{agent!r} is not an agent of this env") from None

    def call(self, name: str, *args: Any) -> Any:
        """Call a public method of the remote env (or read an attribute) and return the result."""
        reply = self.conn().request(call_request(name, args), what=f"call {name} on")
        return decode_value(reply.call.result)

    def state(self) -> Any:
        """The env's global state, from the server.

        Raises:
            NotImplementedError: The env has no state space.
        """
        if self.description.state_space is None:
            raise NotImplementedError(f"{self.description.env_name!r} has no state() (no state_space)")
        return self.call("state")

    def render(self) -> Any:
        """The server's frame (``rgb_array``), shown in a local window for ``human``; None without a render mode."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the remote env")
            return None
        frame = decode_value(self.conn().request(render_request(), what="render on").render.frame)
        if self.render_mode != "human":
            return frame
        if isinstance(frame, np.ndarray):
            if self._viewer is None:
                fps = self.description.metadata.get("render_fps") or 30
                self._viewer = FrameViewer(title=self.description.env_name, fps=fps)
            self._viewer.show(frame)
        return None

    def close(self) -> None:
        """End the session (the server frees the env and its worker); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._viewer is not None:
                self._viewer.close()
        finally:
            self.connection.close()

    def describe(self) -> str:
        """``name @ host:port, session=id`` for reprs."""
        return (
            f"{self.description.env_name} @ {self.connection.target}, session={self.description.session_id}"
        )
