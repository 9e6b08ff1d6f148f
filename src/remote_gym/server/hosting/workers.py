"""Start, talk to, and stop worker processes (forked by the zygote) from the server's event loop.

Spawned workers (:mod:`.spawner`) are the same :class:`WorkerProcess` once started."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from remote_gym._constants import WORKER_START_TIMEOUT_S, WORKER_STOP_TIMEOUT_S
from remote_gym.errors import WorkerCrashedError
from remote_gym.server.handlers.foreign import process_died_error
from remote_gym.server.hosting.frame_protocol import FrameProtocol
from remote_gym.server.hosting.lane import LaneDirectory
from remote_gym.wire.control import CLOSE_LANE_REQUEST, STATUS_REQUEST, WorkerStatus, dial_lane_request
from remote_gym.wire.frames import CONTROL_NUMBER, Numbering, encode_frame
from remote_gym.wire.polling import PollGate

logger = logging.getLogger(__name__)

_MAX_DATAGRAM = 1 << 20


class Zygote:
    """The server's handle on its zygote process; all methods run on the server's event loop."""

    start_method = "fork"

    def __init__(self, lane_transport: str = "unix") -> None:
        self._lane_transport = lane_transport
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._pending_pids: asyncio.Queue[int] | None = None
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._lock: asyncio.Lock | None = None
        self.lanes: LaneDirectory | None = None
        """The private directory of its workers' same-host lane sockets (created by :meth:`start`)."""

    async def start(self) -> None:
        """Launch the zygote with a fresh interpreter and wait until it has preloaded gymnasium."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from remote_gym.server.hosting.zygote import main; main(int(sys.argv[1]))",
                str(theirs.fileno()),
            ],
            pass_fds=(theirs.fileno(),),
            start_new_session=True,  # terminal signals (Ctrl-C) go to the server only
        )
        theirs.close()
        ours.setblocking(False)
        self._control = ours
        self._pending_pids = asyncio.Queue()
        self._lock = asyncio.Lock()
        ready = await asyncio.wait_for(loop.sock_recv(ours, _MAX_DATAGRAM), WORKER_START_TIMEOUT_S)
        if not ready:
            raise RuntimeError("the worker zygote exited while starting")
        loop.add_reader(ours.fileno(), self._on_readable)
        self.lanes = LaneDirectory(self._lane_transport)

    def _on_readable(self) -> None:
        assert self._control is not None and self._pending_pids is not None
        while True:
            try:
                data = self._control.recv(_MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                asyncio.get_running_loop().remove_reader(self._control.fileno())
                for fut in self._exits.values():
                    if not fut.done():
                        fut.set_result(-signal.SIGKILL)
                return
            msg = json.loads(data)
            if "pid" in msg:
                self._pending_pids.put_nowait(int(msg["pid"]))
            elif "exit" in msg:
                self._exit_future(int(msg["exit"])).set_result(int(msg["code"]))

    def _exit_future(self, pid: int) -> asyncio.Future[int]:
        fut = self._exits.get(pid)
        if fut is None:
            fut = self._exits[pid] = asyncio.get_running_loop().create_future()
        return fut

    async def spawn(self, spec_json: dict[str, Any], *, lane: bool = False) -> WorkerProcess:
        """Fork a worker for ``spec_json``; it starts creating its environment at once.

        The zygote gets only the worker's socket; the spec goes to the worker as that socket's first
        frame, so its size is not bounded by a datagram's. ``lane``: the spec carries a lane
        (``spec_json["lane"]``), on which the worker also answers the client directly.
        """
        assert self._control is not None and self._pending_pids is not None and self._lock is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            async with self._lock:  # pids come back in request order
                socket.send_fds(self._control, [b"{}"], [theirs.fileno()])
                pid = await asyncio.wait_for(self._pending_pids.get(), WORKER_START_TIMEOUT_S)
        finally:
            theirs.close()
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_unix_connection(FrameProtocol, sock=ours)
        spec = json.dumps(spec_json).encode()
        transport.write(encode_frame(spec))
        return WorkerProcess(pid, transport, protocol, self._exit_future(pid), lane=lane, sock=ours)

    async def stop(self) -> None:
        """Close the control socket (the zygote exits), reap the process, delete the lane directory."""
        if self.lanes is not None:
            self.lanes.remove()
            self.lanes = None
        if self._control is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._control.fileno())
            self._control.close()
            self._control = None
        proc, self._proc = self._proc, None
        if proc is not None:
            loop = asyncio.get_running_loop()
            try:
                await asyncio.wait_for(loop.run_in_executor(None, proc.wait), WORKER_STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                proc.kill()
                await loop.run_in_executor(None, proc.wait)


class WorkerProcess:
    """One worker process and the framed socket to it."""

    def __init__(
        self,
        pid: int,
        transport: asyncio.BaseTransport,
        protocol: FrameProtocol,
        exited: asyncio.Future[int],
        *,
        sock: socket.socket,
        lane: bool = False,
        kill: Callable[[], None] | None = None,
    ) -> None:
        self.pid = pid
        self.lane = lane
        """Whether the worker also answers its client on a same-host lane (see ``handlers/lane.py``)."""
        self.dials_hub = False
        """Its lane goes to a hub (``LaneSpec.dial``): :meth:`redial` may open it again after a resume."""
        self.last_status = WorkerStatus()
        """What the worker last reported of itself (see :meth:`status`)."""
        self._asking: asyncio.Future[WorkerStatus] | None = None
        self._transport: Any = transport
        self._protocol = protocol
        self._exited = exited
        self._busy = False
        self._numbers = Numbering()
        """Numbers of the requests written to the worker (0 is its first reply's)."""
        self._sock = sock
        """The transport's (non-blocking) socket, read directly when polling for a reply."""
        self._kill = kill
        """How to end the process at once: ``Popen.kill`` for a spawned one; None: SIGKILL its pid."""
        self.reply_gate = PollGate()
        """Whether to poll for the next reply: the running average of the time to a reply."""
        self.polled = 0
        """Replies picked up by polling (see :meth:`request`)."""
        self.poll_misses = 0
        """Polls that gave up (the reply took longer) and awaited the reply instead."""

    @property
    def busy(self) -> bool:
        """True from a request's sending to its reply, also when the wait for it was cancelled."""
        return self._busy

    @property
    def exitcode(self) -> int | None:
        """Exit code once the zygote reported the worker's end, else None."""
        return self._exited.result() if self._exited.done() else None

    @property
    def dropped_replies(self) -> int:
        """Replies that came for requests nobody waited for any more (a client's stream broke meanwhile)."""
        return self._protocol.dropped

    async def first_reply(self) -> bytes:
        """The worker's description of its env (or the error that kept it from creating it).

        Raises:
            WorkerCrashedError: The worker died before answering.
        """
        return await self._await(self._protocol.expect(0), 0)

    async def _await(self, waiter: asyncio.Future[bytes], number: int) -> bytes:
        try:
            return await waiter
        except ConnectionError as exc:
            raise await self._crashed() from exc
        finally:
            self._protocol.forget(number)  # a cancelled wait leaves no waiter: the late reply is dropped

    async def request(self, data: bytes, poll_s: float = 0.0) -> bytes:
        """Send one serialized request and return the serialized response to exactly that request.

        With ``poll_s`` > 0, and when this worker's replies come within that on average, the reply
        is first polled for (blocking the event loop up to ``poll_s``) instead of awaited: the
        server's thread then never sleeps, which saves its wake-up on a quick reply.

        Cancelling the call at any point is safe: the request's number pairs it with its reply, and
        a reply nobody awaits any more is dropped when it arrives.

        Raises:
            WorkerCrashedError: The worker died before answering.
        """
        # Stays True if the wait is cancelled (client deadline): stop() then kills the stuck worker.
        self._busy = True
        number = self._numbers.next()
        protocol = self._protocol
        waiter = protocol.expect(number)
        transport = self._transport
        start = time.perf_counter()
        transport.write(encode_frame(data, number))
        gate = self.reply_gate
        gate.budget_s = poll_s
        if gate.worth_it() and not transport.get_write_buffer_size():
            if protocol.poll(self._sock, poll_s, waiter):
                self.polled += 1
            else:
                self.poll_misses += 1
        reply = await self._await(waiter, number)
        gate.note(time.perf_counter() - start)
        self._busy = False
        return reply

    def close_lane(self) -> None:
        """Ask the worker to close its lane: the client's next request comes through the server."""
        if self.lane:
            self.lane = False
            with contextlib.suppress(Exception):
                self._send_control(CLOSE_LANE_REQUEST)

    def redial(self, dial: dict[str, Any]) -> None:
        """Ask a worker whose lane goes to a hub to open it again, as ``dial`` says (a resumed session)."""
        if self.dials_hub:
            self.lane = True
            with contextlib.suppress(Exception):
                self._send_control(dial_lane_request(dial))

    async def status(self) -> WorkerStatus:
        """Ask the worker for its status (a busy worker answers once its request is answered).

        Callers at the same time share one question. Cancelling the call leaves the question open:
        its answer still becomes :attr:`last_status` when it comes.

        Raises:
            WorkerCrashedError: The worker died before answering.
        """
        asking = self._asking
        if asking is None or asking.done():
            asking = self._asking = asyncio.ensure_future(self._ask_status())
            asking.add_done_callback(_retrieve)
        return await asyncio.shield(asking)

    async def _ask_status(self) -> WorkerStatus:
        waiter = self._protocol.expect(CONTROL_NUMBER)
        self._send_control(STATUS_REQUEST)
        self.last_status = WorkerStatus.from_bytes(await self._await(waiter, CONTROL_NUMBER))
        return self.last_status

    def _send_control(self, message: bytes) -> None:
        self._transport.write(encode_frame(message, CONTROL_NUMBER))

    async def _crashed(self) -> WorkerCrashedError:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._exited), 2.0)
        return process_died_error(
            f"the worker process (pid {self.pid}) hosting the environment", self.exitcode
        )

    async def stop(self) -> None:
        """Hang up; kill the worker at once if it was busy, or if it does not exit in time."""
        with contextlib.suppress(Exception):
            self._transport.close()
        if self._busy:
            self.kill()
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), WORKER_STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            logger.warning(
                "worker %d did not exit within %.0f s; killing it", self.pid, WORKER_STOP_TIMEOUT_S
            )
            self.kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._exited), WORKER_STOP_TIMEOUT_S)

    def kill(self) -> None:
        """End the worker at once: ``Popen.kill`` if spawned, else SIGKILL (the zygote reaps it)."""
        if self._exited.done():  # already reaped: the pid may belong to someone else now
            return
        if self._kill is not None:
            self._kill()
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a task's exception as seen (its callers may all have given up waiting)."""
    if not task.cancelled():
        task.exception()
