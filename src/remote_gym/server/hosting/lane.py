"""The gRPC process's side of the same-host lane: whom to offer it, and the private directory of its sockets."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from typing import Any

from remote_gym.server.handlers.lane_spec import HUB_PATH, TCP_HOST, TCP_PREFIX, TLS_PREFIX, LaneSpec

try:
    import fcntl
except ImportError:  # no flock (Windows, where lanes use TCP and make no directory)
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

_LOOPBACK_PEERS = ("ipv4:127.", "ipv6:[::1]", "ipv6:[::ffff:127.", "unix:")

DIRECTORY_PREFIX = "remote-gym-lanes-"
OWNER_FILE = ".owner"
"""A file in each lane directory that its server holds an exclusive ``flock`` on while it runs: the kernel
drops the lock when the process ends however it ends, so a directory whose lock can be taken is a dead
server's (killed, crashed) and the next server to start removes it."""


def is_local_peer(peer: str) -> bool:
    """Whether a gRPC peer (``context.peer()``) connected over loopback or a Unix socket.

    Only such a client can be on this machine; it still uses the lane only if it can open the
    socket path, which only the server's user can.
    """
    return peer.startswith(_LOOPBACK_PEERS)


class LaneDirectory:
    """Where the workers' lanes listen: a directory only the server's user can enter (0700), holding
    each session's Unix socket; or, with ``transport="tcp"``, a loopback port each worker picks."""

    def __init__(self, transport: str = "unix") -> None:
        self.transport = transport
        """``"unix"`` or ``"tcp"`` (offered only to clients with the ``lane_tcp`` capability)."""
        self.path = ""
        self._owner: int | None = None
        if transport == "unix":
            remove_dead_directories()
            self.path = tempfile.mkdtemp(prefix=DIRECTORY_PREFIX)
            os.chmod(self.path, 0o700)  # mkdtemp already does; said explicitly because security rests on it
            self._owner = _hold(os.path.join(self.path, OWNER_FILE))

    def offer(self, session_id: str, *, max_message_bytes: int, spin_us: float) -> LaneSpec:
        """A socket path (or ``tcp:127.0.0.1:0``) and a new one-time secret for session ``session_id``."""
        path = os.path.join(self.path, f"{session_id}.sock") if self.path else f"{TCP_PREFIX}{TCP_HOST}:0"
        return LaneSpec(
            path=path,
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
        )

    def offer_network(
        self, *, address: str, network: dict[str, Any], max_message_bytes: int, spin_us: float
    ) -> LaneSpec:
        """A network lane for a client on another host: ``address`` is the announced one (``tls:`` when
        ``network["tls"]`` has the server's certificate paths, else ``tcp:``); see ``LaneSpec.network``."""
        return LaneSpec(
            path=f"{TLS_PREFIX if network.get('tls') else TCP_PREFIX}{address}:0",
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
            network=network,
        )

    def offer_dial(self, dial: dict[str, Any], *, max_message_bytes: int, spin_us: float) -> LaneSpec:
        """A lane the worker opens to the hub that routes the session (see ``LaneSpec.dial``)."""
        return LaneSpec(
            path=HUB_PATH,
            secret=secrets.token_hex(32),
            max_message_bytes=max_message_bytes,
            spin_us=spin_us,
            dial=dial,
        )

    def remove(self) -> None:
        """Delete the directory and any socket left in it."""
        if self.path:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.path)
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None


def _hold(path: str) -> int | None:
    """Make the file ``path`` already locked (``flock``, exclusive); the descriptor (None where there is no flock).

    The file is locked under another name and then renamed, so that no sweep can take its lock first.
    """
    if fcntl is None:
        return None
    making = f"{path}.{os.getpid()}"
    fd = os.open(making, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(making, path)
    return fd


def remove_dead_directories(parent: str | None = None) -> list[str]:
    """Remove the lane directories in ``parent`` (the temporary directory) whose server is gone; their paths.

    Only this user's directories that have an :data:`OWNER_FILE` are looked at: one whose lock is free
    belongs to a server that ended without removing it (killed, crashed). A running server's is locked;
    one without the file (a server between making its directory and locking it, or of a version before
    the file) is left alone.
    """
    if fcntl is None:
        return []
    parent = parent or tempfile.gettempdir()
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if not entry.name.startswith(DIRECTORY_PREFIX):
                continue
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                    continue
                fd = os.open(os.path.join(entry.path, OWNER_FILE), os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its server is running
            else:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
            finally:
                os.close(fd)
    if removed:
        logger.info("removed %d lane directories of servers that had ended: %s", len(removed), removed)
    return removed
