"""Check out an operator's git repository at one commit, once per cache, for the server to load code from.

The 0.7.x ``repo``/``reference`` arguments, operator side only: a reference (branch, tag or commit) is
resolved to a commit first, and every commit gets a directory of its own
(``CACHE/<repository>-<hash of its URL>/<commit>``), so that a branch that moved gives a new checkout
and a running server's files never change under it. A checkout appears by an atomic rename of a
finished clone, and a file lock per commit lets concurrent servers clone it once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from remote_gym.errors import ConfigError

GIT_TIMEOUT_S = 600.0
"""Longest a clone or fetch may take."""
LS_REMOTE_TIMEOUT_S = 60.0
"""Longest resolving a reference may take."""
CACHE_ENV = "REMOTE_GYM_REPO_CACHE"
"""Environment variable naming the cache directory (default: the user's cache directory)."""

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{4,39}")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
"""The user part of a URL in git's messages (it may hold a token)."""


@dataclass(frozen=True)
class Checkout:
    """A repository checked out at one commit."""

    repo: str
    """The repository's URL, as the operator gave it."""
    commit: str
    """The full SHA-1 of the commit checked out."""
    path: pathlib.Path
    """The checkout's root directory (never written to once made)."""

    def file(self, relative: str) -> pathlib.Path:
        """The path of ``relative`` (a file in the repository) in this checkout.

        Raises:
            ConfigError: ``relative`` is absolute, leaves the repository (``..``, a symlink out), or is
                not a file at this commit.
        """
        check_relative(relative)
        root = self.path.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise ConfigError(f"{relative!r} leads out of the repository {public_url(self.repo)}")
        if not path.is_file():
            raise ConfigError(
                f"{relative!r} is not a file of {public_url(self.repo)} at commit {self.commit[:12]}"
            )
        return path


def default_cache_dir() -> pathlib.Path:
    """``$REMOTE_GYM_REPO_CACHE``, else ``$XDG_CACHE_HOME/remote-gym/repos`` (``~/.cache/...``)."""
    if os.environ.get(CACHE_ENV):
        return pathlib.Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base, "remote-gym", "repos")


def public_url(repo: str) -> str:
    """``repo`` without a password or token in its user part (for logs, errors and server info)."""
    parts = urllib.parse.urlsplit(repo)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))
    return repo


def check_relative(relative: str) -> None:
    """Refuse a path in a repository that is absolute or climbs out of it (``..``).

    Raises:
        ConfigError: It does.
    """
    path = pathlib.PurePosixPath(relative.replace("\\", "/"))
    if not relative or path.is_absolute() or ".." in path.parts:
        raise ConfigError(f"a path in a repository must be relative and stay inside it, got {relative!r}")


def provision(
    repo: str, reference: str | None = None, *, cache_dir: os.PathLike[str] | str | None = None
) -> Checkout:
    """Resolve ``reference`` in ``repo`` to a commit and check that commit out in the cache.

    Args:
        repo: A URL or path ``git clone`` accepts (``https://...``, ``git@host:org/envs.git``, ``file://...``).
        reference: A branch, tag, ``refs/...`` name or commit (full or abbreviated SHA); None: the
            repository's default branch (its ``HEAD``).
        cache_dir: Where checkouts are kept (default: :func:`default_cache_dir`).

    Raises:
        ConfigError: git is missing, the repository cannot be read, or it has no such reference.
    """
    commit = resolve_reference(repo, reference)
    return checkout(repo, commit, cache_dir=cache_dir)


def resolve_reference(repo: str, reference: str | None = None) -> str:
    """The full SHA-1 of the commit ``reference`` names in ``repo`` now.

    A full SHA is taken as it is (:func:`checkout` finds out whether the repository has it).

    Raises:
        ConfigError: git is missing, the repository cannot be read, or it has no such reference.
    """
    _check_argument(repo, "repository")
    ref = reference or "HEAD"
    _check_argument(ref, "reference")
    if _FULL_SHA.fullmatch(ref):
        return ref.lower()
    refs = _remote_refs(repo)
    for name in _candidates(ref):
        if name in refs:
            return refs[name]
    if _SHORT_SHA.fullmatch(ref):
        commit = _expand_short_sha(repo, ref)
        if commit is not None:
            return commit
    raise ConfigError(
        f"reference {ref!r} not found in {public_url(repo)}: it has no branch, tag or commit of that name"
    )


def checkout(repo: str, commit: str, *, cache_dir: os.PathLike[str] | str | None = None) -> Checkout:
    """The cache's checkout of ``commit`` (a full SHA) of ``repo``, cloned now if it has none.

    Raises:
        ConfigError: The repository cannot be cloned, or has no such commit.
    """
    _check_argument(repo, "repository")
    if not _FULL_SHA.fullmatch(commit):
        raise ConfigError(f"checkout needs a full 40-hex commit SHA, got {commit!r}")
    commit = commit.lower()
    folder = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", public_url(repo).rstrip("/").rsplit("/", 1)[-1])[:40]
    digest = hashlib.sha256(repo.encode()).hexdigest()[:16]
    parent = folder / f"{slug.removesuffix('.git') or 'repo'}-{digest}"
    target = parent / commit
    if target.is_dir():  # complete: a checkout only ever appears by rename
        return Checkout(repo, commit, target)
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent / f".{commit}.lock"):
        if not target.is_dir():
            _clone_into(repo, commit, parent, target)
    return Checkout(repo, commit, target)


def _clone_into(repo: str, commit: str, parent: pathlib.Path, target: pathlib.Path) -> None:
    temp = pathlib.Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=parent))
    try:
        _git("clone", "--quiet", "--no-checkout", "--", repo, str(temp), what=f"cloning {public_url(repo)}")
        if not _has_commit(temp, commit):  # not reachable from a branch or tag: ask for it by SHA
            with contextlib.suppress(ConfigError):
                _git("-C", str(temp), "fetch", "--quiet", "origin", commit, what="fetching the commit")
            if not _has_commit(temp, commit):
                raise ConfigError(f"commit {commit} not found in {public_url(repo)}")
        _git(
            "-C",
            str(temp),
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            commit,
            what=f"checking out {commit[:12]}",
        )
        try:
            os.rename(temp, target)
        except OSError:
            if not target.is_dir():  # not a concurrent server's checkout (no locks on Windows)
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _has_commit(clone: pathlib.Path, commit: str) -> bool:
    try:
        _git("-C", str(clone), "cat-file", "-e", f"{commit}^{{commit}}", what="looking up the commit")
    except ConfigError:
        return False
    return True


def _remote_refs(repo: str) -> dict[str, str]:
    """Every ref the repository advertises -> its commit (``^{}`` entries: what an annotated tag points to)."""
    out = _git(
        "ls-remote",
        "--",
        repo,
        what=f"reading the references of {public_url(repo)}",
        timeout=LS_REMOTE_TIMEOUT_S,
    )
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name:
            refs[name] = sha
    return refs


def _candidates(ref: str) -> list[str]:
    """Ref names ``ref`` may stand for, in git's order (``git rev-parse``: tags before branches)."""
    if ref == "HEAD":
        return ["HEAD"]
    names = [f"{ref}^{{}}", ref] if ref.startswith("refs/") else []
    for prefix in ("refs/tags/", "refs/heads/"):
        names += [f"{prefix}{ref}^{{}}", f"{prefix}{ref}"]
    return names


def _expand_short_sha(repo: str, ref: str) -> str | None:
    """The commit an abbreviated SHA names, found in a throwaway bare clone; None when none is found."""
    with tempfile.TemporaryDirectory(prefix="remote-gym-resolve-") as temp:
        _git("clone", "--quiet", "--bare", "--", repo, temp, what=f"cloning {public_url(repo)}")
        try:
            out = _git("-C", temp, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what="rev-parse")
        except ConfigError:
            return None
    return out.strip() or None


def _check_argument(value: str, what: str) -> None:
    if not value or value.startswith("-") or "\n" in value or "\0" in value:
        raise ConfigError(f"invalid git {what}: {value!r}")


def _git(*args: str, what: str, timeout: float = GIT_TIMEOUT_S) -> str:
    """Run git without a terminal prompt; its output, or ConfigError saying ``what`` failed and why."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except FileNotFoundError as exc:
        raise ConfigError("repo/reference needs git, which is not installed on this machine") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"{what} took longer than {timeout:g} s") from exc
    if proc.returncode != 0:
        detail = (
            _USERINFO.sub(r"\1***@", " ".join(proc.stderr.split())) or f"git exited with {proc.returncode}"
        )
        raise ConfigError(f"{what} failed: {detail}")
    return proc.stdout


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (other processes and threads wait); no lock on Windows."""
    if sys.platform == "win32":  # the atomic rename alone keeps checkouts whole there
        yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
