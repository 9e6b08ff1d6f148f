"""RemoteAgentVectorEnv: copies of a Parallel PettingZoo env on one or more servers, as one vector env over all agents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

from remote_gym.client.agent_session import (
    AgentEnvDescription,
    agent_make_request,
    connection_config,
    describe_reply,
)
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.vector_hosts import VectorHost, connect_all, exchange
from remote_gym.codec.requests import reset_request, step_request
from remote_gym.codec.values import decode_value
from remote_gym.errors import ConfigError, EnvClosedError, ProtocolError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig

Step = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]


class RemoteAgentVectorEnv(VectorEnv[Any, Any, Any]):
    """Copies of a Parallel env, spread over servers, stepped as one Gymnasium vector env over every agent.

    What SuperSuit's ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1`` make of local copies:
    sub-env ``c * A + i`` is agent ``possible_agents[i]`` of copy ``c`` (``A`` agents per copy, all
    with the same spaces). A dead agent shows zeros until its copy resets, which happens within the
    step where its last agent is done (the final observation is then in the info). Each server
    steps its copies in one message per step, and all servers work at once.

    Args:
        addresses: ``"host:port"`` of each server.
        copies: Copies of the env on each server (an int: the same on every server).
        env: Name of the environment; None for each server's default.
        kwargs: Keyword arguments for the environment.
        tls: TLS settings (the same for every server), or None.
        timeouts: Connect and per-call timeouts.
        config: Other client options.
        token: Bearer token the servers require.

    Raises:
        ConfigError: No address, or a number of copies below 1.
        ProtocolError: The servers host envs with other agents or spaces than the first.
        EnvKindError: An agent has other spaces than the others (or the env is no PettingZoo env).

    Example:
        >>> envs = RemoteAgentVectorEnv(["a:56765", "b:56765"], copies=8, env="pistonball")  # doctest: +SKIP
        >>> observations, infos = envs.reset(seed=0)  # doctest: +SKIP
    """

    def __init__(
        self,
        addresses: Sequence[str],
        *,
        copies: int | Sequence[int] = 1,
        env: str | None = None,
        kwargs: dict[str, Any] | None = None,
        tls: TLSConfig | None = None,
        timeouts: Timeouts | None = None,
        config: ClientConfig | None = None,
        token: str | TokenAuth | None = None,
    ) -> None:
        self.closed = True
        counts = [copies] * len(addresses) if isinstance(copies, int) else list(copies)
        if not addresses or len(counts) != len(addresses) or min(counts) < 1:
            raise ConfigError("RemoteAgentVectorEnv needs addresses and at least one copy on each")
        config = connection_config(config, timeouts)
        auth = TokenAuth(token) if isinstance(token, str) else token
        connections = connect_all(list(addresses), [tls] * len(addresses), [auth] * len(addresses), config)
        self._hosts: list[VectorHost] = []
        try:
            self._open(connections, counts, env, kwargs, config, auth)
        except BaseException:
            for connection in connections:
                connection.close()
            raise
        self.closed = False

    def _open(
        self,
        connections: list[Any],
        counts: list[int],
        env: str | None,
        kwargs: dict[str, Any] | None,
        config: ClientConfig,
        auth: TokenAuth | None,
    ) -> None:
        requests = [
            agent_make_request(env, "parallel", kwargs=kwargs, render_mode=None, config=config, num_copies=n)
            for n in counts
        ]
        offset = 0
        for connection, n, request in zip(connections, counts, requests, strict=True):
            self._hosts.append(VectorHost(connection, offset, n, request, auth))
            offset += n
        replies = exchange(self._hosts, requests, timeout=None, what="creating the environment on")
        described = [describe_reply(reply.make) for reply in replies]
        self.description: AgentEnvDescription = described[0]
        for host, other in zip(self._hosts[1:], described[1:], strict=True):
            if (other.possible_agents, other.observation_spaces, other.action_spaces) != (
                self.description.possible_agents,
                self.description.observation_spaces,
                self.description.action_spaces,
            ):
                raise ProtocolError(f"{host.target} hosts an env with other agents or spaces than the first")
        agents = self.description.possible_agents
        self.agents_per_copy = len(agents)
        self.num_copies = offset
        self.num_envs = offset * len(agents)
        self.single_observation_space = self.description.observation_spaces[agents[0]]
        self.single_action_space = self.description.action_spaces[agents[0]]
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = dict(self.description.metadata)
        self.metadata["autoreset_mode"] = "same-step"

    def __repr__(self) -> str:
        targets = ", ".join(host.target for host in self._hosts)
        return f"RemoteAgentVectorEnv({self.description.env_name} @ {targets}, num_envs={self.num_envs})"

    def _check_open(self) -> None:
        if self.closed:
            raise EnvClosedError("the vector env is closed")

    def reset_lists(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Reset every copy (copy ``c`` with ``seed + c``); the observations and the list of slot infos."""
        self._check_open()
        requests = [
            reset_request(None if seed is None else seed + host.offset, options) for host in self._hosts
        ]
        replies = exchange(self._hosts, requests, timeout=None, what="reset on")
        observations = [decode_value(reply.reset.observation) for reply in replies]
        infos = [info for reply in replies for info in decode_value(reply.reset.info)]
        return _joined(observations), infos

    def step_lists(self, actions: Any) -> Step:
        """Step every agent of every copy; the results with the slots' infos as a list (SB3's form)."""
        self._check_open()
        actions = np.asarray(actions, dtype=self.single_action_space.dtype)  # as a batched sample is
        per_copy = self.agents_per_copy
        requests = [
            step_request(actions[host.offset * per_copy : host.stop * per_copy], path="actions")
            for host in self._hosts
        ]
        replies = [reply.step for reply in exchange(self._hosts, requests, timeout=None, what="step on")]
        return (
            _joined([decode_value(r.observation) for r in replies]),
            _joined([decode_value(r.reward) for r in replies]),
            _joined([decode_value(r.terminated) for r in replies]),
            _joined([decode_value(r.truncated) for r in replies]),
            [info for r in replies for info in decode_value(r.info)],
        )

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every copy (copy ``c`` is seeded ``seed + c``); Gymnasium's vectorised infos.

        Raises:
            ConfigError: ``seed`` is a list (copies are seeded from one int).
        """
        if isinstance(seed, list):
            raise ConfigError("RemoteAgentVectorEnv.reset takes one int seed (copy c gets seed + c)")
        observations, infos = self.reset_lists(seed=seed, options=options)
        return observations, self._vector_infos(infos)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step every agent of every copy, one message per server."""
        observations, rewards, terminated, truncated, infos = self.step_lists(actions)
        return observations, rewards, terminated, truncated, self._vector_infos(infos)

    def _vector_infos(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for i, info in enumerate(infos):
            if info:
                merged = self._add_info(merged, info, i)
        return merged

    def close_extras(self, **kwargs: Any) -> None:
        """End every server's session."""
        for host in self._hosts:
            host.connection.close()


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
