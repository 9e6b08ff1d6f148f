"""Test environments that fail on purpose: raise, exit, abort or hang on a chosen step or action."""

from __future__ import annotations

import os
import time

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from remote_gym.errors import ConfigError
from remote_gym.testing._toy import EPISODE_LENGTH, ToyEnv

__all__ = ["AbortingEnv", "ExitingEnv", "HangingEnv", "RaisingEnv"]


class _PoleEnv(ToyEnv[npt.NDArray[np.float32], np.int64]):
    """CartPole-like float32 Box observations and Discrete(2) actions; a base for the failure envs."""

    _HIGH = np.array([2.4, 3.0, 0.21, 3.0], dtype=np.float32)

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Box(-self._HIGH, self._HIGH, dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._state = np.zeros(4, dtype=np.float32)

    def _first_observation(self) -> npt.NDArray[np.float32]:
        self._state = self.np_random.uniform(-0.05, 0.05, size=4).astype(np.float32)
        return self._state.copy()

    def _transition(self, action: np.int64) -> tuple[npt.NDArray[np.float32], float]:
        self._misbehave(int(action))
        push = 1.0 if int(action) == 1 else -1.0
        x, x_dot, theta, theta_dot = self._state.astype(np.float64)
        x_dot += 0.1 * push
        theta_dot -= 0.15 * push
        moved = np.array([x + 0.02 * x_dot, x_dot, theta + 0.02 * theta_dot, theta_dot])
        self._state = np.clip(moved, -self._HIGH, self._HIGH).astype(np.float32)
        return self._state.copy(), 1.0

    def _misbehave(self, action: int) -> None:
        """Hook for the failure envs, called at the start of every step."""


class RaisingEnv(_PoleEnv):
    """Raises ``ValueError("boom at step N")`` when action 1 is taken on step ``fail_on_step``.

    Steps count from 1 after each reset. The env stays usable after raising. ``fail_on_step=None``
    never raises.
    """

    def __init__(
        self,
        *,
        fail_on_step: int | None = 3,
        render_mode: str | None = None,
        episode_length: int = EPISODE_LENGTH,
    ) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.fail_on_step = fail_on_step

    def _misbehave(self, action: int) -> None:
        if action == 1 and self._t == self.fail_on_step:
            raise ValueError(f"boom at step {self._t}")


class ExitingEnv(_PoleEnv):
    """Simulates a crashing worker: ``exit_action`` ends the process with ``os._exit(exit_code)``.

    ``exit_action=None`` never exits.
    """

    def __init__(
        self,
        *,
        exit_action: int | None = 1,
        exit_code: int = 3,
        render_mode: str | None = None,
        episode_length: int = EPISODE_LENGTH,
    ) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.exit_action = exit_action
        self.exit_code = exit_code

    def _misbehave(self, action: int) -> None:
        if action == self.exit_action:
            os._exit(self.exit_code)


class AbortingEnv(_PoleEnv):
    """Simulates a hard crash: ``abort_action`` calls ``os.abort()`` (SIGABRT, no cleanup).

    ``abort_action=None`` never aborts.
    """

    def __init__(
        self,
        *,
        abort_action: int | None = 1,
        render_mode: str | None = None,
        episode_length: int = EPISODE_LENGTH,
    ) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.abort_action = abort_action

    def _misbehave(self, action: int) -> None:
        if action == self.abort_action:
            os.abort()


class HangingEnv(_PoleEnv):
    """Simulates a stuck env: ``hang_action`` sleeps ``hang_s`` seconds before the step completes.

    ``hang_action=None`` never sleeps.
    """

    def __init__(
        self,
        *,
        hang_s: float = 30.0,
        hang_action: int | None = 1,
        render_mode: str | None = None,
        episode_length: int = EPISODE_LENGTH,
    ) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        if hang_s < 0:
            raise ConfigError(f"hang_s must be >= 0, got {hang_s!r}")
        self.hang_s = hang_s
        self.hang_action = hang_action

    def _misbehave(self, action: int) -> None:
        if action == self.hang_action:
            time.sleep(self.hang_s)
