"""Where a session's env(s) run, seen from the gRPC process: one interface, and the place that picks it."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.factory import create_handler
from remote_gym.server.handlers.lane_spec import LaneSpec
from remote_gym.server.handlers.rules import SessionRules
from remote_gym.server.handlers.sequencer import error_bytes
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.hosting.inline import InlineHost
from remote_gym.server.hosting.lane import LaneDirectory
from remote_gym.server.hosting.workers import WorkerProcess
from remote_gym.wire.control import WorkerStatus


class EnvHost(Protocol):
    """A session's env(s): a worker process (:class:`~.workers.WorkerProcess`) or :class:`InlineHost`."""

    async def request(self, data: bytes, poll_s: float = 0.0) -> bytes:
        """Answer one serialized request with its serialized reply (never another request's)."""
        ...

    @property
    def busy(self) -> bool:
        """True while a request sent to it is unanswered (also one whose wait was cancelled)."""
        ...

    @property
    def last_status(self) -> WorkerStatus:
        """What the env(s)' process last reported of itself (see :meth:`status`)."""
        ...

    async def status(self) -> WorkerStatus:
        """Ask the env(s)' process for its figures (restarted sub-envs; lane use and quiet time)."""
        ...

    def close_lane(self) -> None:
        """Close the session's same-host lane, if it has one: its client's next request comes through here."""
        ...

    def kill(self) -> None:
        """Stop a stuck env at once (worker processes; nothing in-process)."""
        ...

    async def stop(self) -> None:
        """Close the env(s) and free what hosts them."""
        ...


class WorkerStarter(Protocol):
    """What starts worker processes: the :class:`~.workers.Zygote` (fork) or the :class:`~.spawner.Spawner`."""

    start_method: str
    """``"fork"`` or ``"spawn"``: also how a worker starts its vector session's helpers."""
    lanes: LaneDirectory | None
    """Where the workers' same-host lanes listen (None until started, or after stopping)."""

    async def start(self) -> None:
        """Get ready to start workers."""
        ...

    async def spawn(self, spec_json: dict[str, Any], *, lane: bool = False) -> WorkerProcess:
        """A worker that starts creating ``spec_json``'s env(s) at once."""
        ...

    async def stop(self) -> None:
        """Stop starting workers and free what that took."""
        ...


async def start_host(
    spec: CreateSpec, zygote: WorkerStarter | None, rules: SessionRules, lane: LaneSpec | None = None
) -> tuple[EnvHost | None, bytes]:
    """Create the env(s) ``spec`` describes: in a worker process ``zygote`` starts, else in this process.

    With ``lane`` (worker processes only), the worker also listens for its client on that lane.
    Every request is answered under ``rules`` (:mod:`~remote_gym.server.handlers.rules`), on any path.

    Returns:
        The host (None when creation failed) and the serialized first reply: the ``MakeResponse``,
        or the ``Error`` response that says why the env could not be created.
    """
    if zygote is not None:
        spec_json = spec.to_json()
        spec_json["process_start"] = zygote.start_method
        if lane is not None:
            spec_json["lane"] = lane.to_json()
        spec_json["rules"] = rules.to_json()
        worker = await zygote.spawn(spec_json, lane=lane is not None)
        worker.dials_hub = lane is not None and lane.dial is not None
        try:
            reply = await worker.first_reply()
        except BaseException:
            await worker.stop()
            raise
        if pb.Response.FromString(reply).WhichOneof("kind") != "make":
            await worker.stop()
            return None, reply
        return worker, reply
    loop = asyncio.get_running_loop()
    try:
        handler = await loop.run_in_executor(None, create_handler, spec)
    except Exception as exc:
        return None, error_bytes(exc)
    try:
        return InlineHost(handler, rules), handler.describe().SerializeToString()
    except Exception as exc:
        handler.close()
        return None, error_bytes(exc)
