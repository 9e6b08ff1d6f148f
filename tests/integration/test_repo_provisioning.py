"""The operator's 0.7.x repo/reference: resolved to a commit, checked out once per commit, reported, never from a client."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading

import pytest

from remote_gym import RemoteEnvironment, create_remote_environment_server
from remote_gym.cli.main import build_parser
from remote_gym.cli.serve import build_config
from remote_gym.client.info import server_info
from remote_gym.errors import ConfigError, PermissionDeniedError
from remote_gym.server.provision import checkout, provision, public_url, resolve_reference
from tests.support.git_origin import ACROBOT_ENTRY, CARTPOLE_ENTRY, Origin

pytestmark = pytest.mark.integration

ENTRY = "envs/entry.py"


@pytest.fixture
def origin(tmp_path: pathlib.Path) -> Origin:
    """A bare repository whose main branch has a CartPole entrypoint at envs/entry.py."""
    repo = Origin(tmp_path / "remote")
    repo.commit({ENTRY: CARTPOLE_ENTRY, "README": "envs\n"})
    return repo


def _args(origin: Origin, reference: str | None = "main", entrypoint: str = ENTRY) -> dict[str, object]:
    return {"repo": origin.url, "reference": reference, "entrypoint": entrypoint}


def test_server_runs_the_entrypoint_of_a_branch(origin: Origin, tmp_path: pathlib.Path) -> None:
    """A server given repo/reference/entrypoint serves that file and reports the resolved commit."""
    commit = resolve_reference(origin.url, "main")
    with create_remote_environment_server(_args(origin), port=0, repo_cache_dir=tmp_path / "cache") as server:
        with RemoteEnvironment(address=server.address) as env:
            assert env.reset(seed=0)[0].shape == (4,)
        hosted = server_info(server.address).environments[0]
    assert (hosted.name, hosted.repo, hosted.commit) == ("entry", origin.url, commit)


def test_moved_branch_gives_a_new_checkout(origin: Origin, tmp_path: pathlib.Path) -> None:
    """After the branch moves, a new server checks out the new commit beside the old one, untouched."""
    cache = tmp_path / "cache"
    first = provision(origin.url, "main", cache_dir=cache)
    moved = origin.commit({ENTRY: ACROBOT_ENTRY})
    assert moved != first.commit
    with create_remote_environment_server(_args(origin), port=0, repo_cache_dir=cache) as server:
        with RemoteEnvironment(address=server.address) as env:
            assert env.reset(seed=0)[0].shape == (6,)  # Acrobot: the new commit's code
        assert server_info(server.address).environments[0].commit == moved
    assert sorted(p.name for p in first.path.parent.iterdir() if not p.name.startswith(".")) == sorted(
        [first.commit, moved]
    )
    assert "CartPole" in first.file(ENTRY).read_text()


def test_missing_reference_is_a_clear_config_error(origin: Origin, tmp_path: pathlib.Path) -> None:
    """A reference the repository lacks fails the server's start with ConfigError naming repo and ref."""
    with pytest.raises(ConfigError, match=r"reference 'no-such-branch' not found in file://.*origin\.git"):
        create_remote_environment_server(
            _args(origin, "no-such-branch"), port=0, repo_cache_dir=tmp_path / "cache"
        )
    with pytest.raises(ConfigError, match="not found"):
        resolve_reference(origin.url, "abcdef12")  # looks like a SHA, is none
    with pytest.raises(ConfigError, match=r"commit 0{40} not found"):
        checkout(origin.url, "0" * 40, cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="reading the references"):
        resolve_reference((tmp_path / "nowhere.git").as_uri(), "main")
    assert not list((tmp_path / "cache").glob("*/.*-*"))  # no half-made clone left behind


def test_tags_commits_and_default_branch_resolve(origin: Origin) -> None:
    """An annotated tag, a full or abbreviated SHA, refs/heads/... and no reference all resolve to commits."""
    first = resolve_reference(origin.url, "main")
    origin.tag("v1", first)
    second = origin.commit({"README": "changed\n"})
    assert resolve_reference(origin.url, "v1") == first  # the commit, not the tag object
    assert resolve_reference(origin.url, first[:9]) == first
    assert resolve_reference(origin.url, first.upper()) == first
    assert resolve_reference(origin.url, "refs/heads/main") == second
    assert resolve_reference(origin.url, None) == second


def test_a_commit_off_every_branch_is_checked_out(origin: Origin, tmp_path: pathlib.Path) -> None:
    """A commit named by its full SHA is checked out even after the branch moved past it."""
    old = resolve_reference(origin.url, "main")
    origin.commit({ENTRY: ACROBOT_ENTRY})
    done = checkout(origin.url, old, cache_dir=tmp_path / "cache")
    assert done.path.name == old
    assert "CartPole" in done.file(ENTRY).read_text()


def test_entrypoint_must_stay_inside_the_repository(origin: Origin, tmp_path: pathlib.Path) -> None:
    """An absolute entrypoint, a `..` path or a symlink out of the repository is refused."""
    outside = tmp_path / "outside.py"
    outside.write_text(CARTPOLE_ENTRY)
    os.symlink(outside, origin.work / "link.py")
    origin.commit({"envs/other.py": CARTPOLE_ENTRY})
    cache = tmp_path / "cache"
    for bad in ("../outside.py", "envs/../../outside.py", str(outside)):
        with pytest.raises(ConfigError, match="relative and stay inside"):
            create_remote_environment_server(_args(origin, entrypoint=bad), port=0, repo_cache_dir=cache)
    with pytest.raises(ConfigError, match="leads out of the repository"):
        create_remote_environment_server(_args(origin, entrypoint="link.py"), port=0, repo_cache_dir=cache)
    with pytest.raises(ConfigError, match="is not a file"):
        create_remote_environment_server(
            _args(origin, entrypoint="envs/none.py"), port=0, repo_cache_dir=cache
        )


def test_reference_without_repo_is_refused() -> None:
    """A reference with no repository, or a repository with no entrypoint, is a ConfigError."""
    with pytest.raises(ConfigError, match="reference but no repo"):
        create_remote_environment_server({"env_id": "CartPole-v1", "reference": "main"}, port=0)
    with pytest.raises(ConfigError, match="needs an entrypoint"):
        create_remote_environment_server({"repo": "file:///nowhere.git"}, port=0)


def test_clients_still_cannot_name_code(origin: Origin, tmp_path: pathlib.Path) -> None:
    """A client of a repo-backed server cannot pick another repo, reference or entrypoint."""
    with create_remote_environment_server(
        _args(origin), port=0, repo_cache_dir=tmp_path / "cache", hosting="inline"
    ) as server:
        for key, value in (("reference", "v2"), ("repo", origin.url), ("entrypoint", "x.py")):
            with pytest.raises(PermissionDeniedError, match=key):
                RemoteEnvironment(address=server.address, remote_args={key: value})


_SERVE_ONE = textwrap.dedent(
    """
    import json, sys
    from remote_gym import create_remote_environment_server
    from remote_gym.client.info import server_info
    args = json.loads(sys.argv[1])
    with create_remote_environment_server(args, port=0, repo_cache_dir=sys.argv[2]) as server:
        print(server_info(server.address).environments[0].commit)
        print(server.config.environments[0].entrypoint)
    """
)


@pytest.mark.timeout(180)
def test_two_servers_cloning_at_once_share_one_checkout(origin: Origin, tmp_path: pathlib.Path) -> None:
    """Two server processes and four threads provisioning the same commit at once end with one checkout."""
    cache = tmp_path / "cache"
    commit = resolve_reference(origin.url, "main")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SERVE_ONE, json.dumps(_args(origin)), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    barrier = threading.Barrier(4)
    paths: list[pathlib.Path] = []

    def provision_now() -> None:
        barrier.wait()
        paths.append(provision(origin.url, "main", cache_dir=cache).path)

    threads = [threading.Thread(target=provision_now) for _ in range(4)]
    for thread in threads:
        thread.start()
    outputs = [proc.communicate(timeout=150) for proc in procs]
    for thread in threads:
        thread.join(60)
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        reported, entrypoint = out.split()
        assert reported == commit
        assert pathlib.Path(entrypoint).parent.parent.name == commit
    assert len(paths) == 4
    assert len(set(paths)) == 1
    (folder,) = cache.iterdir()
    assert [p.name for p in folder.iterdir() if p.is_dir()] == [commit]  # no second clone, no temp dir


def test_serve_cli_checks_out_the_repository(origin: Origin, tmp_path: pathlib.Path) -> None:
    """`serve --repo --reference --entrypoint` builds an entry from the checkout, with its commit."""
    commit = resolve_reference(origin.url, "main")
    args = build_parser().parse_args(
        ["serve", "--repo", origin.url, "--reference", "main", "--entrypoint", ENTRY,
         "--repo-cache", str(tmp_path / "cache")]
    )  # fmt: skip
    (entry,) = build_config(args).environments
    assert (entry.name, entry.commit, entry.repo) == ("entry", commit, origin.url)
    assert commit in str(entry.entrypoint)
    with pytest.raises(ConfigError, match="--reference needs --repo"):
        build_config(build_parser().parse_args(["serve", "CartPole-v1", "--reference", "main"]))


def test_credentials_never_leave_the_url() -> None:
    """A token in the repository URL is hidden in what is reported."""
    assert (
        public_url("https://bot:s3cret@git.example.org/lab/envs.git")
        == "https://***@git.example.org/lab/envs.git"
    )
    assert public_url("git@git.example.org:lab/envs.git") == "git@git.example.org:lab/envs.git"
