"""In-process hosting: a session's env(s) answered on the server's own event loop (trusted, cheap envs)."""

from __future__ import annotations

import asyncio

from remote_gym.server.handlers.base import RequestHandler
from remote_gym.server.handlers.rules import SessionAnswer, SessionRules
from remote_gym.wire.control import WorkerStatus


class InlineHost:
    """A session's handler in the server process; requests are applied in order, each exactly once."""

    def __init__(self, handler: RequestHandler, rules: SessionRules) -> None:
        self._handler = handler
        self._answer = SessionAnswer(handler, rules, in_worker=False)

    async def request(self, data: bytes, poll_s: float = 0.0) -> bytes:
        """Answer one serialized request (``poll_s`` is for worker processes; nothing to poll here)."""
        return self._answer(data)

    busy = False
    """In-process requests are answered before anything else runs on the loop."""

    @property
    def last_status(self) -> WorkerStatus:
        """The handler's figures now (it runs in this process: nothing to wait for)."""
        return WorkerStatus(self._handler.env_restarts())

    async def status(self) -> WorkerStatus:
        """As :attr:`last_status`."""
        return self.last_status

    def close_lane(self) -> None:
        """In-process sessions have no lane."""

    def kill(self) -> None:
        """Nothing to kill in-process (max_call_s applies to worker processes only)."""

    async def stop(self) -> None:
        """Close the env(s), off the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self._handler.close)
