"""Small deterministic Gymnasium environments, one per space type or failure mode, for tests.

Importing this module registers every environment under the ``remote_gym_test/`` namespace (the
Gymnasium convention for env modules), so a fresh process -- such as a server worker -- can run
``gymnasium.make("remote_gym.testing.envs:remote_gym_test/DictSpaces-v0")``.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from remote_gym.testing._toy import EPISODE_LENGTH, ToyEnv
from remote_gym.testing.custom_envs import CustomSpaceEnv
from remote_gym.testing.failing_envs import AbortingEnv, ExitingEnv, HangingEnv, RaisingEnv

__all__ = [
    "ENV_IDS",
    "IMPORTABLE_ENV_IDS",
    "AbortingEnv",
    "CustomSpaceEnv",
    "DictSpacesEnv",
    "ExitingEnv",
    "FrameEnv",
    "GraphEnv",
    "HangingEnv",
    "MixedInfoEnv",
    "RaisingEnv",
    "TupleSpacesEnv",
]

NAMESPACE = "remote_gym_test"
_MODULE = "remote_gym.testing.envs"


class DictSpacesEnv(ToyEnv[dict[str, Any], dict[str, Any]]):
    """Dict observations (keys deliberately not sorted) and Dict actions, with rich info dicts.

    The observation holds a float64 Box with per-element and infinite bounds, an int8 Box,
    MultiBinary, Discrete with a negative start and Text. Info entries cover Python scalars, None,
    numpy scalars and arrays, a list, a tuple and a nested dict.
    """

    _CHARSET = "abcxyz"

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        # A list of pairs keeps the given key order; a plain dict would be sorted by spaces.Dict.
        self.observation_space = spaces.Dict(
            [
                (
                    "z_pos",
                    spaces.Box(
                        np.array([-1.0, -np.inf, 0.0]), np.array([1.0, np.inf, 10.0]), dtype=np.float64
                    ),
                ),
                ("a_vel", spaces.Box(-5, 5, shape=(2, 2), dtype=np.int8)),
                ("m_flags", spaces.MultiBinary(4)),
                ("d_mode", spaces.Discrete(5, start=-2)),
                ("b_word", spaces.Text(max_length=8, charset=self._CHARSET)),
            ]
        )
        self.action_space = spaces.Dict(
            [
                ("throttle", spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)),
                ("gear", spaces.Discrete(3)),
            ]
        )
        self._pos = np.zeros(3)

    def _first_observation(self) -> dict[str, Any]:
        self._pos = np.array([self.np_random.uniform(-0.5, 0.5), 0.0, 5.0])
        return self._observe()

    def _transition(self, action: dict[str, Any]) -> tuple[dict[str, Any], float]:
        throttle = np.asarray(action["throttle"], dtype=np.float64)
        gear = int(action["gear"])
        self._pos[0] = np.clip(self._pos[0] + 0.1 * throttle[0], -1.0, 1.0)
        self._pos[1] += 1000.0 * throttle[1]  # unbounded on purpose: this entry has infinite bounds
        self._pos[2] = np.clip(self._pos[2] + gear - 1, 0.0, 10.0)
        return self._observe(), float(gear) - float(np.abs(throttle).sum())

    def _observe(self) -> dict[str, Any]:
        rng = self.np_random
        word = "".join(self._CHARSET[i] for i in rng.integers(len(self._CHARSET), size=rng.integers(1, 9)))
        return {
            "z_pos": self._pos.copy(),
            "a_vel": rng.integers(-5, 6, size=(2, 2), dtype=np.int8),
            "m_flags": rng.integers(0, 2, size=4, dtype=np.int8),
            "d_mode": np.int64(rng.integers(-2, 3)),
            "b_word": word,
        }

    def _info(self) -> dict[str, Any]:
        t = self._t
        return {
            "step": t,
            "progress": t / self.episode_length,
            "even": t % 2 == 0,
            "phase": "reset" if t == 0 else "running",
            "note": None,
            "half_step": np.float32(t / 2),
            "countdown": np.int64(self.episode_length - t),
            "third": np.bool_(t % 3 == 0),
            "position": self._pos.copy(),
            "grid": np.arange(6, dtype=np.int16).reshape(2, 3) + t,
            "history": [t, 0.25, "x"],
            "pair": (t, "pair"),
            "nested": {"depth": 1, "inner": {"ids": np.array([t, t + 1], dtype=np.uint32), "name": "inner"}},
        }


class TupleSpacesEnv(ToyEnv[tuple[Any, ...], tuple[Any, ...]]):
    """Tuple observations of uint8 Box, MultiDiscrete with starts, and unstacked and stacked Sequences."""

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Tuple(
            (
                spaces.Box(0, 255, shape=(3, 4), dtype=np.uint8),
                spaces.MultiDiscrete([3, 4], start=[1, -1]),
                spaces.Sequence(spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32), stack=False),
                spaces.Sequence(spaces.Discrete(4), stack=True),
            )
        )
        self.action_space = spaces.Tuple((spaces.Discrete(3), spaces.MultiBinary((2, 2))))

    def _first_observation(self) -> tuple[Any, ...]:
        return self._observe()

    def _transition(self, action: tuple[Any, ...]) -> tuple[tuple[Any, ...], float]:
        choice, mask = action
        return self._observe(), float(choice) + 0.1 * float(np.sum(mask))

    def _observe(self) -> tuple[Any, ...]:
        rng = self.np_random
        points = tuple(rng.random(2, dtype=np.float32) for _ in range(rng.integers(0, 4)))
        return (
            rng.integers(0, 256, size=(3, 4), dtype=np.uint8),
            rng.integers([1, -1], [4, 3], dtype=np.int64),
            points,
            rng.integers(0, 4, size=rng.integers(0, 4), dtype=np.int64),
        )


class GraphEnv(ToyEnv[spaces.GraphInstance, tuple[Any, Any]]):
    """Graph observations with a varying number of nodes and edges; OneOf actions."""

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Graph(
            node_space=spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32), edge_space=spaces.Discrete(4)
        )
        self.action_space = spaces.OneOf(
            (spaces.Discrete(2), spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32))
        )

    def _first_observation(self) -> spaces.GraphInstance:
        return self._observe()

    def _transition(self, action: tuple[Any, Any]) -> tuple[spaces.GraphInstance, float]:
        index, value = action
        reward = float(value) if int(index) == 0 else -float(np.abs(value).sum())
        return self._observe(), reward

    def _observe(self) -> spaces.GraphInstance:
        rng = self.np_random
        num_nodes, num_edges = int(rng.integers(1, 6)), int(rng.integers(0, 7))
        return spaces.GraphInstance(
            nodes=rng.random((num_nodes, 3), dtype=np.float32),
            edges=rng.integers(0, 4, size=num_edges, dtype=np.int64),
            edge_links=rng.integers(0, num_nodes, size=(num_edges, 2), dtype=np.int64),
        )


class FrameEnv(ToyEnv[npt.NDArray[np.uint8], np.int64]):
    """Atari-sized uint8 frames (210x160x3): a ball moved by the action over a seeded background.

    The top rows hold seeded noise that changes every step, so frames are neither constant nor
    pure noise. ``render_mode="rgb_array"`` returns a smaller 64x96x3 picture of the same scene.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}  # noqa: RUF012 -- Gymnasium's own convention

    FRAME_SHAPE = (210, 160, 3)
    RENDER_SHAPE = (64, 96, 3)
    _BALL = 8
    _NOISE_ROWS = 12
    _MOVES = ((0, 0), (-4, 0), (4, 0), (0, -4), (0, 4))  # noop, up, down, left, right

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Box(0, 255, shape=self.FRAME_SHAPE, dtype=np.uint8)
        self.action_space = spaces.Discrete(len(self._MOVES))
        self._background = np.zeros(3, dtype=np.uint8)
        self._ball = np.zeros(2, dtype=np.int64)

    def _first_observation(self) -> npt.NDArray[np.uint8]:
        self._background = self.np_random.integers(0, 128, size=3, dtype=np.uint8)
        self._ball = np.array([105, 80], dtype=np.int64)
        return self._frame()

    def _transition(self, action: np.int64) -> tuple[npt.NDArray[np.uint8], float]:
        limit = np.array(self.FRAME_SHAPE[:2]) - self._BALL
        self._ball = np.clip(self._ball + self._MOVES[int(action)], [self._NOISE_ROWS, 0], limit)
        return self._frame(), 1.0 if int(action) == 0 else 0.0

    def _frame(self) -> npt.NDArray[np.uint8]:
        frame = np.empty(self.FRAME_SHAPE, dtype=np.uint8)
        frame[:] = self._background
        frame[: self._NOISE_ROWS] = self.np_random.integers(
            0, 256, size=(self._NOISE_ROWS, 160, 3), dtype=np.uint8
        )
        row, col = self._ball
        frame[row : row + self._BALL, col : col + self._BALL] = 255
        return frame

    def render(self) -> Any:
        """A 64x96x3 uint8 picture in ``"rgb_array"`` mode, else None."""
        if self.render_mode != "rgb_array":
            return None
        picture = np.empty(self.RENDER_SHAPE, dtype=np.uint8)
        picture[:] = self._background
        row = int(self._ball[0]) * self.RENDER_SHAPE[0] // self.FRAME_SHAPE[0]
        col = int(self._ball[1]) * self.RENDER_SHAPE[1] // self.FRAME_SHAPE[1]
        picture[row : row + 3, col : col + 3] = 255
        return picture


class MixedInfoEnv(ToyEnv[np.int64, np.int64]):
    """Info values whose Python type depends on the action: an int after action 0, a float after 1.

    Vectorised infos type each key by the first sub-env that has it, so merging such infos is where
    a split of sub-envs over hosts could show. Episodes end at random (10% per step).
    """

    def __init__(self, *, render_mode: str | None = None, episode_length: int = EPISODE_LENGTH) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.observation_space = spaces.Discrete(EPISODE_LENGTH + 1)
        self.action_space = spaces.Discrete(2)
        self._value: int | float = 0
        self.last_step_at = 0.0
        """``time.monotonic()`` at its latest step: when its host stepped it."""

    def _first_observation(self) -> np.int64:
        self._value = 1
        return np.int64(0)

    def _transition(self, action: np.int64) -> tuple[np.int64, float]:
        self.last_step_at = time.monotonic()
        self._value = self._t if int(action) == 0 else self._t / 3
        if self.np_random.random() < 0.1:
            self._t = self.episode_length  # the episode ends now
        return np.int64(min(self._t, EPISODE_LENGTH)), 1.0

    def _info(self) -> dict[str, Any]:
        return {"value": self._value, "nested": {"value": self._value}}


class SleepyEnv(MixedInfoEnv):
    """:class:`MixedInfoEnv` whose steps take ``step_s`` seconds of ``time.sleep`` (a slow simulator
    that leaves the CPU free): for asynchronous stepping, where slow sub-envs must not hold up others.

    With ``slow_every=K``, an env first reset with a seed divisible by K steps in ``slow_s`` instead
    (a vector env reset with ``seed=0`` has one slow sub-env in K).
    """

    def __init__(
        self,
        *,
        render_mode: str | None = None,
        episode_length: int = EPISODE_LENGTH,
        step_s: float = 0.001,
        slow_s: float = 0.01,
        slow_every: int = 0,
    ) -> None:
        super().__init__(render_mode=render_mode, episode_length=episode_length)
        self.step_s, self.slow_s, self.slow_every = float(step_s), float(slow_s), int(slow_every)
        self._pause = self.step_s

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None and self.slow_every:
            self._pause = self.slow_s if seed % self.slow_every == 0 else self.step_s
        return super().reset(seed=seed, options=options)

    def _transition(self, action: np.int64) -> tuple[np.int64, float]:
        time.sleep(self._pause)
        return super()._transition(action)


# name -> (class, registered max_episode_steps). TupleSpaces truncates (10) before it terminates (20).
_REGISTRATIONS: dict[str, tuple[type[gym.Env[Any, Any]], int]] = {
    "DictSpaces": (DictSpacesEnv, 100),
    "TupleSpaces": (TupleSpacesEnv, 10),
    "Graph": (GraphEnv, 100),
    "Frame": (FrameEnv, 100),
    "MixedInfo": (MixedInfoEnv, 100),
    "Sleepy": (SleepyEnv, 100),
    "CustomSpace": (CustomSpaceEnv, 100),
    "Raising": (RaisingEnv, 100),
    "Exiting": (ExitingEnv, 100),
    "Aborting": (AbortingEnv, 100),
    "Hanging": (HangingEnv, 100),
}

ENV_IDS: dict[str, str] = {name: f"{NAMESPACE}/{name}-v0" for name in _REGISTRATIONS}
"""Short name -> Gymnasium id, e.g. ``"DictSpaces" -> "remote_gym_test/DictSpaces-v0"``."""

IMPORTABLE_ENV_IDS: dict[str, str] = {name: f"{_MODULE}:{env_id}" for name, env_id in ENV_IDS.items()}
"""Short name -> ``module:id`` form that ``gymnasium.make`` resolves in a process that never imported us."""


def _register_all() -> None:
    for name, (cls, max_episode_steps) in _REGISTRATIONS.items():
        if ENV_IDS[name] not in gym.registry:  # re-import must neither warn nor fail
            gym.register(
                id=ENV_IDS[name],
                entry_point=f"{cls.__module__}:{cls.__name__}",
                max_episode_steps=max_episode_steps,
            )


_register_all()
