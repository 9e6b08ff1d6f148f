"""Write rendered RGB frames to a video file (imageio with ffmpeg, imported lazily)."""

from __future__ import annotations

import os
import pathlib
from types import TracebackType
from typing import Any

import numpy as np

from remote_gym.errors import ConfigError, DependencyNotInstalledError

_INSTALL_HINT = "pip install 'remote-gym[record]' (imageio and imageio-ffmpeg)"


def _imageio() -> Any:
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401  (the writer for .mp4 lives in this package)
    except ImportError as exc:
        raise DependencyNotInstalledError(
            f"recording a video needs imageio and ffmpeg: {_INSTALL_HINT}"
        ) from exc
    return imageio


def check_video_support() -> None:
    """Fail early, before any work, when the ``record`` extra is not installed.

    Raises:
        DependencyNotInstalledError: imageio or imageio-ffmpeg is missing; the message has the pip command.
    """
    _imageio()


class VideoRecorder:
    """Append RGB frames (height x width x 3 uint8) to a video file; a context manager.

    Example:
        >>> with VideoRecorder("out.mp4", fps=50) as video:  # doctest: +SKIP
        ...     video.add(env.render())
    """

    def __init__(self, path: str | os.PathLike[str], *, fps: float = 30.0) -> None:
        """Open nothing yet: the file is created with the first frame.

        Raises:
            DependencyNotInstalledError: The ``record`` extra is not installed.
            ConfigError: ``fps`` is not positive.
        """
        if fps <= 0:
            raise ConfigError(f"fps must be > 0, got {fps!r}")
        self._imageio = _imageio()
        self.path = pathlib.Path(path)
        self.fps = float(fps)
        self.frames = 0
        """Frames written so far."""
        self._writer: Any = None

    def add(self, frame: Any) -> None:
        """Append one frame; anything that is not an RGB(A) image is refused.

        Raises:
            ConfigError: ``frame`` is not a height x width x 3 (or 4) array.
        """
        array = np.asarray(frame)
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise ConfigError(f"can only record RGB frames (height x width x 3), got shape {array.shape}")
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # macro_block_size=1 keeps odd frame sizes (CartPole renders 600x400) as they are.
            self._writer = self._imageio.get_writer(self.path, fps=self.fps, macro_block_size=1)
        self._writer.append_data(np.ascontiguousarray(array[..., :3], dtype=np.uint8))
        self.frames += 1

    def close(self) -> None:
        """Finish the file; idempotent."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
