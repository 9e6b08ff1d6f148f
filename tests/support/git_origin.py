"""A real git repository on disk, reached by ``file://`` URL, for the repo/reference provisioning tests."""

from __future__ import annotations

import os
import pathlib
import subprocess

CARTPOLE_ENTRY = """\
import gymnasium as gym


def create_environment(enable_rendering, env_id, **kwargs):
    return gym.make("CartPole-v1", **kwargs)
"""

ACROBOT_ENTRY = CARTPOLE_ENTRY.replace("CartPole-v1", "Acrobot-v1")

_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "operator",
    "GIT_AUTHOR_EMAIL": "operator@example.invalid",
    "GIT_COMMITTER_NAME": "operator",
    "GIT_COMMITTER_EMAIL": "operator@example.invalid",
}


def git(*args: str, cwd: pathlib.Path) -> str:
    """Run git in ``cwd`` with a neutral configuration; its stripped output."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=_ENV, capture_output=True, text=True, check=True, timeout=60
    )
    return proc.stdout.strip()


class Origin:
    """A bare repository (the operator's remote) and a working clone that commits and pushes to it."""

    def __init__(self, root: pathlib.Path) -> None:
        self.bare = root / "origin.git"
        self.work = root / "work"
        self.bare.mkdir(parents=True)
        git("init", "--quiet", "--bare", "--initial-branch=main", cwd=self.bare)
        self.work.mkdir()
        git("init", "--quiet", "--initial-branch=main", cwd=self.work)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    @property
    def url(self) -> str:
        """The ``file://`` URL of the bare repository."""
        return self.bare.as_uri()

    def commit(self, files: dict[str, str], *, branch: str = "main") -> str:
        """Write ``files`` (path -> text), commit them on ``branch``, push it; the commit's SHA."""
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("checkout", "--quiet", "-B", branch, cwd=self.work)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "-m", f"update {', '.join(files)}", cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"{branch}:{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def tag(self, name: str, commit: str) -> None:
        """Push an annotated tag ``name`` on ``commit``."""
        git("tag", "--annotate", "-m", name, name, commit, cwd=self.work)
        git("push", "--quiet", "origin", f"refs/tags/{name}", cwd=self.work)
