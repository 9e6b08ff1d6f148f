"""Lane directories of servers that ended without removing them (killed, crashed) are removed by the
next server; a running server's, another user's and ones without an owner file are left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from remote_gym.server.hosting.lane import OWNER_FILE, LaneDirectory, remove_dead_directories

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="lane directories are a Unix-socket thing")

SERVER_LIKE = """
import sys, time
from remote_gym.server.hosting.lane import LaneDirectory
lanes = LaneDirectory("unix")
print(lanes.path, flush=True)
time.sleep(60)
"""


def _directory_of_a_killed_process(tmp: Path) -> Path:
    """A lane directory made by a process that was then killed (SIGKILL: nothing of it ran after)."""
    with subprocess.Popen(
        [sys.executable, "-c", SERVER_LIKE],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    ) as proc:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        assert path.parent == tmp
        assert (path / OWNER_FILE).exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return path


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the temporary directory of this process (``tempfile.gettempdir()``)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_killed_servers_directory_is_removed_when_the_next_one_starts(tmp: Path) -> None:
    dead = _directory_of_a_killed_process(tmp)
    (dead / "a-session.sock").touch()  # a socket file its last session left
    assert dead.exists()
    lanes = LaneDirectory("unix")
    try:
        assert not dead.exists()
        assert Path(lanes.path).is_dir()
        assert Path(lanes.path).parent == tmp
    finally:
        lanes.remove()
    assert not Path(lanes.path).exists()
    assert list(tmp.iterdir()) == []


def test_a_running_servers_directory_is_kept_even_by_a_sweep_in_its_own_process(tmp: Path) -> None:
    running = LaneDirectory("unix")
    dead = _directory_of_a_killed_process(tmp)
    try:
        assert remove_dead_directories() == [str(dead)]
        assert Path(running.path).is_dir()
        other = LaneDirectory("unix")  # another server in the same process
        assert Path(running.path).is_dir()
        assert Path(other.path).is_dir()
        other.remove()
    finally:
        running.remove()


def test_directories_without_an_owner_file_or_of_other_names_are_left(tmp: Path) -> None:
    unowned = tmp / "remote-gym-lanes-older"  # a server of a version before the owner file, or starting
    unowned.mkdir()
    other = tmp / "not-ours"
    other.mkdir()
    (other / OWNER_FILE).touch()
    plain_file = tmp / "remote-gym-lanes-file"
    plain_file.touch()
    assert remove_dead_directories(str(tmp)) == []
    assert unowned.is_dir()
    assert other.is_dir()
    assert plain_file.is_file()


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to hand a directory over"
)
def test_another_users_directory_is_left(tmp: Path) -> None:
    dead = _directory_of_a_killed_process(tmp)
    os.chown(dead, 65534, 65534)
    assert remove_dead_directories(str(tmp)) == []
    assert dead.is_dir()


def test_a_tcp_lane_makes_no_directory_and_sweeps_nothing(tmp: Path) -> None:
    dead = _directory_of_a_killed_process(tmp)
    lanes = LaneDirectory("tcp")
    assert lanes.path == ""
    lanes.remove()
    assert dead.is_dir()
