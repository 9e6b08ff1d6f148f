"""The base of the toy test environments: episode bookkeeping, seeding and text rendering."""

from __future__ import annotations

from typing import Any, Generic, SupportsFloat, TypeVar

import gymnasium as gym

from remote_gym.errors import ConfigError

EPISODE_LENGTH = 20
"""Every environment terminates after this many steps unless built with another ``episode_length``."""

ObsT = TypeVar("ObsT")
ActT = TypeVar("ActT")
StepResult = tuple[ObsT, SupportsFloat, bool, bool, dict[str, Any]]


class ToyEnv(gym.Env[ObsT, ActT], Generic[ObsT, ActT]):
    """Episode bookkeeping shared by the toy envs: a step counter, termination and text rendering.

    Subclasses set the spaces and implement :meth:`_first_observation` and :meth:`_transition`,
    drawing every random number from ``self.np_random`` so that a seed fixes the trajectory.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 30}  # noqa: RUF012 -- Gymnasium's own convention

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"{type(self).__name__} cannot render in mode {render_mode!r}")
        if episode_length < 1:
            raise ConfigError(f"episode_length must be >= 1, got {episode_length!r}")
        self.render_mode = render_mode
        self.episode_length = episode_length
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsT, dict[str, Any]]:
        """Start a new episode; ``options`` are accepted and ignored."""
        super().reset(seed=seed)
        self._t = 0
        return self._first_observation(), self._info()

    def step(self, action: ActT) -> StepResult[ObsT]:
        """Advance one step; the episode terminates after ``episode_length`` steps."""
        self._t += 1
        observation, reward = self._transition(action)
        return observation, reward, self._t >= self.episode_length, False, self._info()

    def render(self) -> Any:
        """A one-line text description in ``"ansi"`` mode, else None."""
        if self.render_mode == "ansi":
            return f"{type(self).__name__}: step {self._t}/{self.episode_length}\n"
        return None

    def _first_observation(self) -> ObsT:
        raise NotImplementedError

    def _transition(self, action: ActT) -> tuple[ObsT, float]:
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:
        return {"step": self._t}
