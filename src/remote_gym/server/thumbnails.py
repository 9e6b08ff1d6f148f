"""Small PNG thumbnails of sessions' latest frames for the monitoring page, sampled on request at a low rate.

A frame is rendered by sending the session's env an unnumbered ``RenderRequest`` (``seq`` 0: the
worker applies it without touching the client's request numbering) under the session's request
lock, and only when the session is idle at that moment: a session answering a request is never
interrupted, and each session renders at most once per ``min_interval_s`` however many pages watch.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any

import numpy as np

from remote_gym.codec.requests import server_render_mode
from remote_gym.codec.values import decode_value
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.sessions import SessionRecord, SessionTable

_RENDER = pb.Request(render=pb.RenderRequest()).SerializeToString()
RENDER_TIMEOUT_S = 5.0


class Thumbnails:
    """Latest-frame thumbnails of the sessions whose env renders ``rgb_array``."""

    def __init__(
        self,
        sessions: SessionTable,
        loop: asyncio.AbstractEventLoop,
        *,
        min_interval_s: float = 1.0,
        size: tuple[int, int] = (240, 160),
    ) -> None:
        self._sessions = sessions
        self._loop = loop
        self._interval = min_interval_s
        self._size = size
        self._cache: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def png(self, session_id: str) -> bytes | None:
        """A PNG of the session's latest frame (at most ``min_interval_s`` old when it could be rendered).

        Called from a web server thread; None when the session has no frame to show.
        """
        with self._lock:  # one render per session at a time, whatever the number of viewers
            now = time.monotonic()
            cached = self._cache.get(session_id)
            if cached is not None and now - cached[0] < self._interval:
                return cached[1]
            future = asyncio.run_coroutine_threadsafe(self._render(session_id), self._loop)
            frame = future.result(RENDER_TIMEOUT_S)
            if frame is None:
                return cached[1] if cached is not None else None
            png = self._encode(frame)
            self._cache = {
                key: value for key, value in self._cache.items() if now - value[0] < 60.0
            }  # forget ended sessions
            self._cache[session_id] = (now, png)
            return png

    async def _render(self, session_id: str) -> np.ndarray[Any, Any] | None:
        record = next((r for r in self._sessions if r.session_id == session_id), None)
        if record is None or not _renders_frames(record) or record.busy or record.lock.locked():
            return None
        async with record.lock:
            host = record.host
            if host is None:
                return None
            reply = pb.Response.FromString(await host.request(_RENDER))
        if reply.WhichOneof("kind") != "render":
            return None
        frame = decode_value(reply.render.frame)
        if isinstance(frame, (tuple, list)):  # a vector session's frames, or a list of frames
            frame = frame[0] if frame else None
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.dtype != np.uint8:
            return None
        return frame

    def _encode(self, frame: np.ndarray[Any, Any]) -> bytes:
        from PIL import Image  # the "web" extra

        image = Image.fromarray(frame[..., :3])
        image.thumbnail(self._size)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def _renders_frames(record: SessionRecord) -> bool:
    mode = record.render_mode
    return server_render_mode(mode) == "rgb_array" and record.host is not None
