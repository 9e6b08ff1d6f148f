"""The helper processes of a sharded vector session (see :mod:`.shards`): forked, or started by spawn."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

from remote_gym._constants import WORKER_STOP_TIMEOUT_S
from remote_gym.protocol.v1 import remote_gym_pb2 as pb
from remote_gym.server.handlers.cores import LocalVectorCore, ReportedError
from remote_gym.server.handlers.foreign import process_died_error
from remote_gym.server.handlers.frame_io import FrameReader, write_frame
from remote_gym.server.handlers.spawned import (
    CONNECT_TIMEOUT_S,
    accept_children,
    loopback_listener,
    new_secret,
    start_child,
)
from remote_gym.server.handlers.spec import CreateSpec
from remote_gym.server.handlers.vector import VectorEnvHandler
from remote_gym.server.handlers.worker_loop import serve_requests
from remote_gym.wire.control import STATUS_REQUEST, WorkerStatus
from remote_gym.wire.frames import CONTROL_NUMBER

_REQUEST_NUMBER = 1
"""Frame number of every request to a helper (replies come in order; 0 is for control messages)."""


class Helper:
    """One helper process serving sub-envs ``offset .. offset + size - 1`` of the session.

    Forked, or (``spec.process_start == "spawn"``) started by spawn: see :func:`_spawn_helpers`.
    """

    def __init__(
        self,
        spec: CreateSpec,
        offset: int,
        size: int,
        spawned: tuple[subprocess.Popen[bytes], socket.socket] | None,
    ) -> None:
        self.offset = offset
        self.size = size
        self._proc: subprocess.Popen[bytes] | None = None
        if spawned is not None:
            self._proc, ours = spawned
            pid = self._proc.pid
        else:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                _run_helper(ours, theirs, spec)
            theirs.close()
        self.pid = pid
        self.sock = ours
        self.stream = ours.makefile("rb", buffering=1 << 16)
        self.reader = FrameReader(self.stream)  # type: ignore[arg-type]
        self.exitcode: int | None = None
        self.restarts = 0
        """Its sub-envs recreated after they raised, as of its last status."""

    def send(self, request: pb.Request) -> None:
        write_frame(self.sock, request.SerializeToString(), _REQUEST_NUMBER)

    def ask_status(self) -> None:
        """Ask for its status (read it with :meth:`read_status`); a dead helper is left to the next request."""
        with contextlib.suppress(OSError):
            write_frame(self.sock, STATUS_REQUEST, CONTROL_NUMBER)

    def read_status(self) -> None:
        """Read the status :meth:`ask_status` asked for; keep the last one if the helper is gone."""
        try:
            frame = self.reader.read()
        except (OSError, ValueError):
            frame = None
        if frame is not None:
            self.restarts = WorkerStatus.from_bytes(frame[1]).env_restarts

    def receive(self) -> pb.Response:
        """The helper's next reply; a dead helper raises WorkerCrashedError."""
        try:
            frame = self.reader.read()
        except OSError:
            frame = None
        if frame is None:
            last = self.offset + self.size - 1
            raise process_died_error(
                f"the helper process (pid {self.pid}) hosting sub-envs {self.offset}..{last}",
                self._reap(timeout=2.0),
            )
        response: pb.Response = pb.Response.FromString(frame[1])
        if response.WhichOneof("kind") == "error":
            raise ReportedError(_shift_error(response.error, self.offset))
        return response

    def _reap(self, timeout: float) -> int | None:
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.exitcode = self._proc.wait(timeout)
            return self.exitcode
        deadline = time.monotonic() + timeout
        while self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                return None
            else:
                time.sleep(0.01)
        return self.exitcode

    def stop(self) -> None:
        """Hang up (the helper closes its envs and exits); kill it if it does not exit in time."""
        with contextlib.suppress(OSError):
            self.stream.close()
            self.sock.close()
        if self._reap(WORKER_STOP_TIMEOUT_S) is None and self.exitcode is None:
            if self._proc is not None:
                self._proc.kill()
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            self._reap(WORKER_STOP_TIMEOUT_S)


def spawn_helpers(specs: list[CreateSpec]) -> list[tuple[subprocess.Popen[bytes], socket.socket]]:
    """Start one helper per spec by spawn, all at once, and wait until each has connected back."""
    listener = loopback_listener()
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for spec in specs:
            secret = new_secret()
            note = {"port": listener.getsockname()[1], "secret": secret, "spec": spec.to_json()}
            children[secret] = start_child("remote_gym.server.handlers.helper_main:spawned_helper_main", note)
        connected = accept_children(listener, children, CONNECT_TIMEOUT_S + 20.0)
    except BaseException:
        for proc in children.values():
            proc.kill()
            proc.wait()
        raise
    finally:
        listener.close()
    return [(proc, connected[secret]) for secret, proc in children.items()]


def _run_helper(ours: socket.socket, theirs: socket.socket, spec: CreateSpec) -> None:  # pragma: no cover
    code = 70
    try:
        ours.close()
        keep = theirs.fileno()
        # Only the socket to the session's worker stays open: the worker's own socket to the server
        # must close when the worker dies, whatever the helpers do.
        os.closerange(3, keep)
        os.closerange(keep + 1, 65536)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        handler = VectorEnvHandler(spec, LocalVectorCore(spec), "sync")
        try:
            code = serve_requests(theirs, FrameReader(theirs.makefile("rb", buffering=1 << 16)), handler)  # type: ignore[arg-type]
        finally:
            handler.close()
    finally:
        os._exit(code)


def _shift_error(error: pb.Error, offset: int) -> pb.Error:
    """A helper's error, its sub-env index made the session's (the helper holds sub-envs from ``offset``)."""
    if error.HasField("sub_env_index"):
        error.sub_env_index += offset
    return error
