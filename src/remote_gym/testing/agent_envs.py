"""Small PettingZoo envs for tests: agents that die and join, action masks, a state (needs PettingZoo).

``serve(pettingzoo="remote_gym.testing.agent_envs")`` hosts :class:`Skirmish` (its ``parallel_env``
and ``env``); ``"remote_gym.testing.agent_envs:uniform_parallel_env"`` hosts :class:`Pursuit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import conversions, wrappers


class Skirmish(ParallelEnv[str, Any, int]):  # type: ignore[misc]  # PettingZoo is untyped
    """Three fighters and a reserve that joins at step 3; fighters die at seeded random steps.

    Observations are dicts with an ``action_mask`` (a fighter's action 0 is masked once it is wounded),
    infos carry the same mask, and ``state()`` is the whole board. Every episode truncates after
    ``max_cycles`` steps.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012  # PettingZoo's convention
        "name": "skirmish_v0",
        "render_modes": ["rgb_array"],
        "is_parallelizable": True,
        "render_fps": 10,
    }

    def __init__(self, max_cycles: int = 12, render_mode: str | None = None) -> None:
        self.possible_agents = ["fighter_0", "fighter_1", "fighter_2", "reserve_0"]
        self.max_cycles = max_cycles
        self.render_mode = render_mode
        # The reserve can only hold (one action): whoever samples its actions needs no seed for them.
        self._n = {agent: 1 if agent.startswith("reserve") else 3 for agent in self.possible_agents}
        self.observation_spaces = {
            agent: spaces.Dict(
                {
                    "observation": spaces.Box(-1.0, 1.0, (4,), np.float32),
                    "action_mask": spaces.MultiBinary(n),
                }
            )
            for agent, n in self._n.items()
        }
        self.action_spaces = {agent: spaces.Discrete(n) for agent, n in self._n.items()}
        self.state_space = spaces.Box(-1.0, 1.0, (4, 4), np.float32)
        self.agents: list[str] = []
        self._rng = np.random.default_rng()
        self._board = np.zeros((4, 4), np.float32)
        self._t = 0

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The agent's observation space."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """The agent's action space."""
        return self.action_spaces[agent]

    def _mask(self, agent: str) -> np.ndarray:
        row = self.possible_agents.index(agent)
        return np.array([self._board[row, 0] > -0.5, 1, 1][: self._n[agent]], dtype=np.int8)

    def _observe(self, agent: str) -> dict[str, Any]:
        row = self.possible_agents.index(agent)
        return {"observation": self._board[row].copy(), "action_mask": self._mask(agent)}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Three fighters on a seeded board."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._board = self._rng.uniform(-0.4, 0.4, (4, 4)).astype(np.float32)
        self._t = 0
        self.agents = self.possible_agents[:3]
        return (
            {a: self._observe(a) for a in self.agents},
            {a: {"action_mask": self._mask(a)} for a in self.agents},
        )

    def step(self, actions: dict[str, int]) -> tuple[dict[str, Any], ...]:
        """Each action nudges its fighter; a fighter below -0.9 dies; the reserve joins at step 3."""
        self._t += 1
        for agent, action in actions.items():
            row = self.possible_agents.index(agent)
            self._board[row] = np.clip(
                self._board[row] + (action - 1) * 0.2 + self._rng.normal(0, 0.2, 4), -1, 1
            )
        if self._t == 3 and "reserve_0" not in self.agents:
            self.agents.append("reserve_0")  # joins: it gets its first observation now
        rewards = {a: float(self._board[self.possible_agents.index(a), 1]) for a in self.agents}
        terminations = {a: bool(self._board[self.possible_agents.index(a), 0] < -0.9) for a in self.agents}
        truncations = dict.fromkeys(self.agents, self._t >= self.max_cycles)
        observations = {a: self._observe(a) for a in self.agents}
        infos = {a: {"action_mask": self._mask(a)} for a in self.agents}
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The whole board."""
        return self._board.copy()

    def render(self) -> np.ndarray | None:
        """The board as a small grey image (``rgb_array``)."""
        if self.render_mode != "rgb_array":
            return None
        grey = ((self._board + 1) * 127).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)

    def close(self) -> None:
        """Nothing to free."""


def parallel_env(**kwargs: Any) -> Skirmish:
    """The Parallel form of :class:`Skirmish`."""
    return Skirmish(**kwargs)


def env(**kwargs: Any) -> Any:
    """The AEC form of :class:`Skirmish`, wrapped as PettingZoo wraps its own envs."""
    aec = conversions.parallel_to_aec(Skirmish(**kwargs))
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(aec))


class Pursuit(ParallelEnv[str, np.ndarray, int]):  # type: ignore[misc]  # PettingZoo is untyped
    """Agents with one shared observation and action space, as a batched (vector) session needs.

    ``n_agents`` agents chase a seeded target on a line; observations are ``obs_size`` floats. All
    agents truncate together after ``max_cycles`` steps.
    """

    metadata: dict[str, Any] = {"name": "pursuit_v0", "render_modes": [], "is_parallelizable": True}  # noqa: RUF012

    def __init__(self, n_agents: int = 3, obs_size: int = 8, max_cycles: int = 20) -> None:
        self.possible_agents = [f"chaser_{i}" for i in range(n_agents)]
        self.obs_size = obs_size
        self.max_cycles = max_cycles
        self._space = spaces.Box(-10.0, 10.0, (obs_size,), np.float32)
        self._actions = spaces.Discrete(3)
        self.agents: list[str] = []
        self._rng = np.random.default_rng()
        self._pos = np.zeros(n_agents, np.float32)
        self._target = 0.0
        self._t = 0

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The shared observation space."""
        return self._space

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """The shared action space."""
        return self._actions

    def _obs(self, i: int) -> np.ndarray:
        obs = np.full(self.obs_size, self._target - self._pos[i], np.float32)
        obs[0] = self._pos[i]
        return np.clip(obs, -10, 10)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Chasers at seeded positions."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._pos = self._rng.uniform(-5, 5, len(self.possible_agents)).astype(np.float32)
        self._target = float(self._rng.uniform(-5, 5))
        self._t = 0
        self.agents = list(self.possible_agents)
        return {a: self._obs(i) for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict[str, Any], ...]:
        """Each chaser moves -1, 0 or +1; reward is minus its distance to the target."""
        self._t += 1
        for agent, action in actions.items():
            i = self.possible_agents.index(agent)
            self._pos[i] = np.clip(self._pos[i] + (int(action) - 1), -10, 10)
        done = self._t >= self.max_cycles
        observations = {a: self._obs(self.possible_agents.index(a)) for a in self.agents}
        rewards = {
            a: -abs(self._target - float(self._pos[self.possible_agents.index(a)])) for a in self.agents
        }
        terminations = dict.fromkeys(self.agents, False)
        truncations = dict.fromkeys(self.agents, done)
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos


def uniform_parallel_env(**kwargs: Any) -> Pursuit:
    """A :class:`Pursuit` env."""
    return Pursuit(**kwargs)
