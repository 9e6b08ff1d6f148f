"""Worker processes started by spawn, kept warm: the :class:`Zygote`'s counterpart on every OS.

Each worker is a fresh interpreter (:func:`~remote_gym.server.handlers.spawned.start_child`) that
connects back to this server's loopback listener and presents its own one-time secret (the wire
layer's handshake); the socket then carries the same frames as a forked worker's. Exit codes come
from the ``Popen`` object and ``Popen.kill`` ends a stuck one: no ``fork``, ``os.kill`` or Unix
socket on this path.

A *warm* worker has already started, imported gymnasium and the hosted envs' modules (without
making an env) and connected: a session takes it and sends its spec at once. Each serves one
session and exits, and another is started behind it. When no warm worker is ready, the session
starts its own (without preloading the other envs' modules).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from remote_gym._constants import WORKER_STOP_TIMEOUT_S
from remote_gym.errors import WorkerCrashedError
from remote_gym.server.handlers.spawned import CONNECT_TIMEOUT_S, LOOPBACK, new_secret, start_child
from remote_gym.server.hosting.frame_protocol import FrameProtocol
from remote_gym.server.hosting.lane import LaneDirectory
from remote_gym.server.hosting.workers import WorkerProcess
from remote_gym.wire.frames import encode_frame
from remote_gym.wire.handshake import HelloReader, SecretGate, encode_accepted

logger = logging.getLogger(__name__)

_MAIN = "remote_gym.server.hosting.worker_main:spawned_worker_main"
_STDERR_TAIL_BYTES = 8192
_RETRY_S = (0.5, 30.0)
"""First and longest pause before starting a warm worker again after one failed to start."""


@dataclass(eq=False)
class _Child:
    """A started interpreter: its process, its exit (a future), and the last of what it wrote to stderr."""

    proc: subprocess.Popen[bytes]
    exited: asyncio.Future[int]
    stderr_tail: collections.deque[bytes]
    sock: socket.socket | None = None

    def output(self) -> str:
        return b"".join(self.stderr_tail).decode(errors="replace")[-_STDERR_TAIL_BYTES:]


class Spawner:
    """Starts worker processes by spawn for the server; all methods run on the server's event loop.

    Args:
        preload: What warm workers import (see :func:`~remote_gym.server.handlers.spawned.preload`).
        warm: Workers kept started and connected (``ServerConfig.warm_workers``).
        lane_transport: ``"unix"`` or ``"tcp"`` (``ServerConfig.lane_transport``).
    """

    start_method = "spawn"

    def __init__(self, preload: list[dict[str, str]], warm: int = 0, lane_transport: str = "tcp") -> None:
        self._preload = preload
        self._warm = warm
        self._lane_transport = lane_transport
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._gates: dict[str, tuple[SecretGate, asyncio.Future[socket.socket]]] = {}
        self._ready: collections.deque[_Child] = collections.deque()
        self._filling: set[asyncio.Task[None]] = set()
        """Warm workers being started."""
        self._became_ready = asyncio.Event()
        self._admitting: set[asyncio.Task[None]] = set()
        self._children: set[_Child] = set()
        self._stopping = False
        self.lanes: LaneDirectory | None = None
        """Where workers' same-host lanes listen (created by :meth:`start`)."""

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port) and start the warm workers (without waiting for them)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._accepting = asyncio.ensure_future(self._accept_loop())
        self.lanes = LaneDirectory(self._lane_transport)
        self._fill()

    @property
    def warm_ready(self) -> int:
        """Warm workers ready now."""
        return len(self._ready)

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        while True:
            try:
                conn, _ = await loop.sock_accept(self._listener)
            except OSError:
                return
            task = asyncio.ensure_future(self._admit(conn))
            self._admitting.add(task)
            task.add_done_callback(self._admitting.discard)

    async def _admit(self, conn: socket.socket) -> None:
        """Read a child's hello; hand the connection to the child whose secret it presents, else close it."""
        loop = asyncio.get_running_loop()
        conn.setblocking(False)
        hello = HelloReader()
        try:
            presented = None
            while presented is None:
                chunk = await asyncio.wait_for(loop.sock_recv(conn, hello.missing()), 2.0)
                if not chunk:
                    raise ConnectionError("closed during the handshake")
                presented = hello.feed(chunk)
            for key, (gate, fut) in list(self._gates.items()):
                if gate.admit(presented) is None:
                    del self._gates[key]
                    await loop.sock_sendall(conn, encode_accepted())
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if not fut.done():
                        fut.set_result(conn)
                        return
                    break
            else:
                logger.warning("a connection to the workers' port presented no known secret: closed")
        except (OSError, ValueError, asyncio.TimeoutError) as exc:
            logger.debug("a worker connection failed during its handshake: %s", exc)
        conn.close()

    async def _start_child(self, preload: list[dict[str, str]]) -> _Child:
        """Start one interpreter and wait until it has connected back.

        Raises:
            WorkerCrashedError: It exited first (its stderr's end in the message), or did not connect in time.
        """
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        secret = new_secret()
        connected: asyncio.Future[socket.socket] = loop.create_future()
        self._gates[secret] = (SecretGate(bytes.fromhex(secret)), connected)
        note = {"port": self._listener.getsockname()[1], "secret": secret, "preload": preload}
        try:
            proc = await loop.run_in_executor(None, lambda: start_child(_MAIN, note, capture_stderr=True))
        except BaseException:
            self._gates.pop(secret, None)
            raise
        child = _Child(proc, loop.create_future(), collections.deque())
        self._children.add(child)
        threading.Thread(
            target=_watch,
            args=(child, loop, self._children.discard),
            name=f"remote-gym-worker-{proc.pid}",
            daemon=True,
        ).start()
        try:
            waits: set[asyncio.Future[Any]] = {connected, child.exited}
            done, _ = await asyncio.wait(
                waits, timeout=CONNECT_TIMEOUT_S + 20.0, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            proc.kill()
            raise
        finally:
            self._gates.pop(secret, None)
        if connected in done:
            child.sock = connected.result()
            return child
        proc.kill()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(child.exited), 2.0)
        code = child.exited.result() if child.exited.done() else None
        how = f"exited with code {code}" if code is not None else "did not connect back in time"
        raise WorkerCrashedError(
            f"the worker process (pid {proc.pid}) {how} while starting; its output:\n{child.output()}",
            exitcode=code,
        )

    async def _fill_one(self) -> None:
        """Start one warm worker; after a failure, wait longer before each retry."""
        pause = _RETRY_S[0]
        try:
            while not self._stopping:
                try:
                    child = await self._start_child(self._preload)
                except WorkerCrashedError as exc:
                    self._became_ready.set()  # a session waiting for it starts its own at once
                    logger.warning("a warm worker failed to start (retrying in %.1f s): %s", pause, exc)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, _RETRY_S[1])
                    continue
                self._ready.append(child)
                self._became_ready.set()
                return
        finally:
            self._filling.discard(asyncio.current_task())

    def _fill(self) -> None:
        """Start as many warm workers as are missing, all at once."""
        while self._ready and self._ready[0].exited.done():
            self._ready.popleft()  # died while waiting (killed): not ready any more
        missing = self._warm - len(self._ready) - len(self._filling)
        for _ in range(max(0, missing) if not self._stopping else 0):
            self._filling.add(asyncio.ensure_future(self._fill_one()))

    def _take_ready(self) -> _Child | None:
        while self._ready:
            child = self._ready.popleft()
            if not child.exited.done():
                return child
        return None

    async def spawn(self, spec_json: dict[str, Any], *, lane: bool = False) -> WorkerProcess:
        """A worker for ``spec_json``: a warm one if one is ready (another is started behind it), else a new one.

        With none ready but one on its way, the session waits for that one (it is ready sooner than a
        new one would be); a session that finds none at all starts its own.

        Raises:
            WorkerCrashedError: A new worker failed to start (its output is in the message).
        """
        child = self._take_ready()
        if child is None and self._filling:
            self._became_ready.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._became_ready.wait(), CONNECT_TIMEOUT_S)
            child = self._take_ready()
        self._fill()
        if child is None:
            child = await self._start_child([])
        assert child.sock is not None
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(FrameProtocol, sock=child.sock)
        transport.write(encode_frame(json.dumps(spec_json).encode()))
        return WorkerProcess(
            child.proc.pid,
            transport,
            protocol,
            child.exited,
            lane=lane,
            sock=child.sock,
            kill=child.proc.kill,
        )

    async def stop(self) -> None:
        """Stop listening; end the warm workers (they exit when their socket closes); kill any left."""
        self._stopping = True
        for task in (*self._filling, *self._admitting, self._accepting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        while self._ready:
            child = self._ready.popleft()
            if child.sock is not None:
                child.sock.close()
        pending = [child for child in self._children if not child.exited.done()]
        if pending:
            _, late = await asyncio.wait([child.exited for child in pending], timeout=WORKER_STOP_TIMEOUT_S)
            for child in pending:
                if child.exited in late:
                    child.proc.kill()
            if late:
                await asyncio.wait(late, timeout=WORKER_STOP_TIMEOUT_S)
        if self.lanes is not None:
            self.lanes.remove()
            self.lanes = None


def _watch(child: _Child, loop: asyncio.AbstractEventLoop, forget: Callable[[_Child], None]) -> None:
    """A child's thread: pass its stderr on to ours (keeping the end), then report its exit code."""
    stream: IO[bytes] | None = child.proc.stderr
    tail = child.stderr_tail
    size = 0
    if stream is not None:
        for line in iter(stream.readline, b""):
            with contextlib.suppress(Exception):
                sys.stderr.write(line.decode(errors="replace"))
            tail.append(line)
            size += len(line)
            while size > _STDERR_TAIL_BYTES and len(tail) > 1:
                size -= len(tail.popleft())
        stream.close()
    code = child.proc.wait()
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(_set_exit, child, code, forget)


def _set_exit(child: _Child, code: int, forget: Callable[[_Child], None]) -> None:
    forget(child)
    if not child.exited.done():
        child.exited.set_result(code)
