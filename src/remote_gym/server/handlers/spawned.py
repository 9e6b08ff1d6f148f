"""Processes started by spawn (a fresh interpreter) that connect back to their parent over loopback TCP.

The portable way to start a worker or a vector session's helper: no ``fork``, no fd passing, no
Unix socket, so it works on Windows and macOS as on Linux (where ``worker_start="spawn"`` runs it in
CI). The parent listens on ``127.0.0.1`` (a free port) and starts the child with its *start note*
on stdin, one JSON line: the port, a one-time secret, and what to preload. The child connects and
presents the secret as the first frame (:mod:`remote_gym.wire.handshake`); the parent accepts only
that secret, once, and answers :data:`~remote_gym.wire.handshake.ACCEPTED`. From then on the socket
carries the wire layer's numbered frames exactly like a forked worker's socketpair.

A child whose parent dies sees its socket close and exits: no orphan on any platform.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from typing import IO, Any

import gymnasium as gym

from remote_gym.wire.handshake import HelloReader, SecretGate, encode_accepted, encode_hello, is_accepted

LOOPBACK = "127.0.0.1"

CONNECT_TIMEOUT_S = 10.0
"""Longest a child takes to connect back after its imports (a loaded machine is slow)."""


def new_secret() -> str:
    """A one-time secret for one child (hex)."""
    return secrets.token_hex(32)


def start_child(main: str, note: dict[str, Any], *, capture_stderr: bool = False) -> subprocess.Popen[bytes]:
    """Start ``python -c "from MODULE import FUNC; FUNC()"`` for ``main`` = ``"MODULE:FUNC"``.

    The child gets ``note`` on stdin (:func:`read_start_note`). It is put out of the reach of the
    terminal's interrupt (its own session on POSIX, its own process group on Windows): Ctrl+C and
    CTRL_BREAK go to the server, which stops its workers itself.
    """
    module, func = main.split(":")
    options: dict[str, Any] = {}
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        options["start_new_session"] = True
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from {module} import {func}; {func}()"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE if capture_stderr else None,
        **options,
    )
    assert proc.stdin is not None
    with contextlib.suppress(OSError):  # a child that died at once: its exit says why
        proc.stdin.write(json.dumps(note).encode() + b"\n")
        proc.stdin.close()
    return proc


def read_start_note(stream: IO[bytes] | None = None) -> dict[str, Any]:
    """The child's side of :func:`start_child`: the JSON line its parent wrote on stdin."""
    line = (stream or sys.stdin.buffer).readline()
    note: dict[str, Any] = json.loads(line)
    return note


def connect_back(note: dict[str, Any], timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
    """Connect to the parent named in ``note`` and present its secret.

    Raises:
        ConnectionError: The parent refused the secret or closed the connection.
        OSError: The parent cannot be reached.
    """
    sock = socket.create_connection((LOOPBACK, int(note["port"])), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(encode_hello(bytes.fromhex(note["secret"])))
        if not is_accepted(_read_first_frame(sock)):
            raise ConnectionError("the parent refused this process's secret")
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def _read_first_frame(sock: socket.socket) -> bytes:
    hello = HelloReader()
    payload = None
    while payload is None:
        chunk = sock.recv(hello.missing())
        if not chunk:
            raise ConnectionError("the other end closed the connection during the handshake")
        payload = hello.feed(chunk)
    return payload


def loopback_listener() -> socket.socket:
    """A listening socket on 127.0.0.1 and a free port, for children to connect back to."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    return listener


def accept_children(
    listener: socket.socket, children: dict[str, subprocess.Popen[bytes]], timeout: float
) -> dict[str, socket.socket]:
    """The blocking parent side: wait until every child connected with its secret (others are refused).

    Args:
        listener: From :func:`loopback_listener`.
        children: Each child's secret (hex) and process.
        timeout: Seconds for all of them.

    Returns:
        Each secret's connection.

    Raises:
        ConnectionError: A child exited, or did not connect within ``timeout``.
    """
    gates = {key: SecretGate(bytes.fromhex(key)) for key in children}
    connected: dict[str, socket.socket] = {}
    deadline = time.monotonic() + timeout
    listener.settimeout(0.05)
    try:
        while len(connected) < len(children):
            for proc in children.values():
                if proc.poll() is not None:
                    raise ConnectionError(
                        f"the process (pid {proc.pid}) exited with code {proc.returncode} while starting"
                    )
            if time.monotonic() > deadline:
                raise ConnectionError(f"a process did not connect within {timeout:.0f} s")
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            key = _admit(conn, gates)
            if key is None:
                conn.close()
            else:
                connected[key] = conn
    except BaseException:
        for conn in connected.values():
            conn.close()
        raise
    return connected


def _admit(conn: socket.socket, gates: dict[str, SecretGate]) -> str | None:
    """Read a child's hello; the key of the gate its secret opens (answered), else None."""
    try:
        conn.settimeout(2.0)
        presented = _read_first_frame(conn)
        for key, gate in gates.items():
            if gate.admit(presented) is None:
                conn.sendall(encode_accepted())
                conn.settimeout(None)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return key
    except (OSError, ValueError):
        pass
    return None


def preload(targets: list[dict[str, str]]) -> None:
    """Import what the hosted envs need without making one: registered ids' modules, entrypoint files.

    A target that fails to import is skipped: the same failure comes back, with its traceback, to the
    client whose session makes that env.
    """
    from remote_gym.server.handlers.spec import load_entrypoint

    for target in targets:
        with contextlib.suppress(Exception):
            if "entrypoint" in target:
                load_entrypoint(target["entrypoint"])
                continue
            env_id = target["gym_id"]
            if ":" in env_id:
                importlib.import_module(env_id.split(":")[0])
                env_id = env_id.split(":", 1)[1]
            entry_point = gym.spec(env_id).entry_point
            if isinstance(entry_point, str):
                importlib.import_module(entry_point.split(":")[0])
