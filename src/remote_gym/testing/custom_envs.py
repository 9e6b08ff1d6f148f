"""A toy environment whose spaces are a custom ``gymnasium.Space`` subclass, for tests of third-party spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from remote_gym.testing._toy import ToyEnv


class ColourSpace(spaces.Space[str]):
    """A custom space (not derived from a built-in one) of colour names, like MiniGrid's MissionSpace."""

    def __init__(self, colours: Sequence[str] = ("red", "green", "blue"), seed: int | None = None) -> None:
        """The space of the names in ``colours``."""
        self.colours = tuple(colours)
        super().__init__(dtype=str, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random colour name."""
        return self.colours[int(self.np_random.integers(len(self.colours)))]

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is one of the colour names."""
        return isinstance(x, str) and x in self.colours

    def __eq__(self, other: object) -> bool:
        """Same colours in the same order."""
        return isinstance(other, ColourSpace) and other.colours == self.colours

    def __hash__(self) -> int:
        return hash(self.colours)

    def __repr__(self) -> str:
        return f"ColourSpace({list(self.colours)})"


class CustomSpaceEnv(ToyEnv[dict[str, Any], str]):
    """Observations hold a ColourSpace beside a Discrete; actions are colour names (a ColourSpace)."""

    def __init__(self, *, render_mode: str | None = None, episode_length: int = 20) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Dict(
            {"colour": ColourSpace(), "step": spaces.Discrete(episode_length + 1)}
        )
        self.action_space = ColourSpace(("red", "green"))
        self._colour = "red"

    def _first_observation(self) -> dict[str, Any]:
        self._colour = ("red", "green", "blue")[int(self.np_random.integers(3))]
        return self._observe()

    def _transition(self, action: str) -> tuple[dict[str, Any], float]:
        reward = float(action == self._colour)
        self._colour = action
        return self._observe(), reward

    def _observe(self) -> dict[str, Any]:
        return {"colour": self._colour, "step": np.int64(self._t)}
