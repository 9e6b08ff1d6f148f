"""What the server keeps per session: its record, and the in-process form of its env(s)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from remote_gym.server.handler import EnvHandler
from remote_gym.server.pool import Worker
from remote_gym.server.sequencer import Sequencer
from remote_gym.server.vector_handler import VectorEnvHandler


@dataclass
class SessionInfo:
    session_id: str
    env_name: str
    peer: str
    busy: bool = False
    """True while a request is being answered."""
    ending: str = ""
    """Why the server is ending the session ("SHUTDOWN" or "SESSION" for idle expiry); "" while it runs."""
    slow: bool = False
    """True when the worker was killed for exceeding max_call_s."""
    session: Worker | InlineSession | None = None
    """The env(s): a worker process, or a handler in this process."""
    token: str = ""
    """Secret a client must show to resume the session on a new stream."""
    owner: object | None = None
    """The stream currently serving the session; None while detached."""
    detached: asyncio.TimerHandle | None = None
    """While detached: the timer that ends the session when the resume window passes."""
    closing: bool = False
    """True once the client sent CloseRequest: the end of its stream then ends the session."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serializes requests, also across an old and a new stream after a resume."""


class InlineSession:
    """A session whose env lives in the server process (hosting="inline")."""

    def __init__(self, handler: EnvHandler | VectorEnvHandler) -> None:
        self._handler = handler
        self._answer = Sequencer(handler.handle).answer

    async def request(self, data: bytes, poll_s: float = 0.0) -> bytes:
        return self._answer(data)

    def kill(self) -> None:
        """Nothing to kill in-process (max_call_s applies to worker processes only)."""

    async def stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._handler.close)
