"""A local window that shows rendered frames for render_mode="human" (pygame, imported lazily)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from remote_gym.errors import DependencyNotInstalledError


class FrameViewer:
    """Shows RGB frames in a pygame window at most ``fps`` times a second."""

    def __init__(self, *, title: str, fps: float) -> None:
        try:
            import pygame
        except ImportError as exc:
            raise DependencyNotInstalledError(
                "render_mode='human' needs pygame: pip install 'remote-gym[render]'"
            ) from exc
        self._pygame: Any = pygame
        self._title = title
        self._period = 1.0 / fps if fps and fps > 0 else 0.0
        self._screen: Any = None
        self._last = 0.0

    def show(self, frame: np.ndarray) -> None:
        """Draw ``frame`` (height x width x 3 uint8), pacing to the env's render_fps."""
        pygame = self._pygame
        if self._screen is None:
            pygame.init()
            pygame.display.init()
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            pygame.display.set_caption(self._title)
        surface = pygame.surfarray.make_surface(np.ascontiguousarray(np.swapaxes(frame[..., :3], 0, 1)))
        self._screen.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        wait = self._last + self._period - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    def close(self) -> None:
        """Close the window."""
        if self._screen is not None:
            self._pygame.display.quit()
            self._screen = None
