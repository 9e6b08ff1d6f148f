"""Mixed releases: this release and the previous one, built from git history, in all four client/server pairs.

The previous release is the newest one CHANGELOG.md lists other than this one, built from the commit the
changelog names (``git archive``) into an environment of its own (``uv venv`` + ``uv pip install``, with
the dependency versions of that commit's uv.lock), once per test run. Its clients and servers run as processes of that environment; this release's run from the
test's own. Every pair plays CartPole in lock-step with a local env, one env and a vector env, with and
without the same-host lane, while a proxy cuts the connection every quarter second (the sessions resume).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import remote_gym
from tests.support.proxy import cutting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
_RELEASE = re.compile(r"^## (\d+\.\d+\.\d+)\b[^\n]*?commit ([0-9a-f]{7,40})", re.MULTILINE)
CUT_EVERY_S = 0.25


@dataclass(frozen=True)
class Release:
    """A release whose clients and servers a test runs."""

    version: str
    python: str
    """Its interpreter."""


def previous_release() -> tuple[str, str]:
    """The version and commit of the newest release in CHANGELOG.md other than this one."""
    for version, commit in _RELEASE.findall((ROOT / "CHANGELOG.md").read_text()):
        if version != remote_gym.__version__:
            return version, commit
    raise AssertionError("CHANGELOG.md names no earlier release with its commit")


def test_changelog_names_this_release() -> None:
    """CHANGELOG.md has a section for the version in _version.py."""
    assert f"## {remote_gym.__version__} " in (ROOT / "CHANGELOG.md").read_text()


def _clean_env() -> dict[str, str]:
    """The environment for another interpreter: none of this one's import paths or virtualenv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def _install(uv: str, python: str, source: pathlib.Path, env: dict[str, str]) -> None:
    """Install the release in ``source`` with the dependency versions its own uv.lock pins (when it has one)."""
    pip = [uv, "pip", "install", "-q", "--python", python]
    if (source / "uv.lock").exists():
        requirements = source / "locked-requirements.txt"
        export = [uv, "export", "-q", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
        subprocess.run([*export, "--project", str(source), "-o", str(requirements)], check=True, env=env)
        subprocess.run([*pip, "-r", str(requirements)], check=True, env=env, timeout=900)
        pip.append("--no-deps")
    subprocess.run([*pip, str(source)], check=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The previous release, installed from its commit into a virtualenv of its own (built once per run)."""
    version, commit = previous_release()
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], check=False)
    if known.returncode:
        shallow = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            check=False,
        )
        if shallow.returncode or shallow.stdout.strip() == "true":  # no history to build it from at all
            where = "not a git repository" if shallow.returncode else "a shallow clone"
            pytest.skip(
                f"release {version} is built from commit {commit}, and this checkout is {where}: "
                "clone with history (git fetch --unshallow) to run the mixed-release test"
            )
        pytest.fail(
            f"commit {commit} (release {version}) is not in this clone's history: fetch it "
            "(git fetch --unshallow) — this test builds that release from it"
        )
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    assert uv, "uv is needed to build the previous release"
    work = tmp_path_factory.mktemp(f"release-{version}")
    started = time.monotonic()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(work / "src", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    venv = work / "venv"
    env = _clean_env()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    python = str(venv / "bin" / "python")
    _install(uv, python, work / "src", env)
    installed = subprocess.run(
        [python, "-c", "import remote_gym; print(remote_gym.__version__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    ).stdout.strip()
    assert installed == version, f"commit {commit} installs remote-gym {installed}, not {version}"
    print(f"\nbuilt remote-gym {version} from {commit[:12]} in {time.monotonic() - started:.1f} s")
    return Release(version, python)


@pytest.fixture(scope="module")
def releases(previous: Release) -> dict[str, Release]:
    """The two releases of the pairs: ``"previous"`` and ``"this"``."""
    return {"previous": previous, "this": Release(remote_gym.__version__, sys.executable)}


@pytest.fixture(scope="module")
def servers(releases: dict[str, Release]) -> Iterator[dict[str, str]]:
    """A running server of each release: name -> its address."""
    processes: dict[str, subprocess.Popen[str]] = {}
    addresses: dict[str, str] = {}
    try:
        for name, release in releases.items():
            process = subprocess.Popen(
                [release.python, str(HERE / "pair_server.py")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=_clean_env(),
                cwd=HERE,
            )
            processes[name] = process
            assert process.stdout is not None
            addresses[name] = process.stdout.readline().strip()
            assert addresses[name], f"the {name} release's server did not start"
        yield addresses
    finally:
        for process in processes.values():
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _cut_while(process: subprocess.Popen[str], ready: pathlib.Path, cut: object) -> threading.Thread:
    """Once the client has reset (``ready`` exists), cut its connection every CUT_EVERY_S until it exits."""

    def run() -> None:
        while not ready.exists() and process.poll() is None:
            time.sleep(0.02)
        while process.poll() is None:
            time.sleep(CUT_EVERY_S)
            if process.poll() is None:
                cut()  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "grpc"])
@pytest.mark.parametrize("num_envs", [0, 2], ids=["single", "vector"])
@pytest.mark.parametrize("server", ["previous", "this"], ids=lambda s: f"{s}-server")
@pytest.mark.parametrize("client", ["previous", "this"], ids=lambda c: f"{c}-client")
def test_release_pair(
    client: str,
    server: str,
    num_envs: int,
    lane: bool,
    releases: dict[str, Release],
    servers: dict[str, str],
    tmp_path: pathlib.Path,
) -> None:
    """A client of one release and a server of the other (or the same) play in lock-step, through cuts."""
    host, port = servers[server].rsplit(":", 1)
    ready = tmp_path / "ready"
    with cutting_proxy(host, int(port)) as proxy:
        command = [releases[client].python, str(HERE / "pair_client.py"), f"127.0.0.1:{proxy.port}"]
        command += ["--vector", str(num_envs), "--ready", str(ready)] + ([] if lane else ["--no-lane"])
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env(), cwd=HERE
        )
        cutter = _cut_while(process, ready, proxy.cut)
        out, err = process.communicate(timeout=90)
        cutter.join(5)
    assert process.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["client"], report["server"]) == (releases[client].version, releases[server].version)
    assert report["first_path"] == ("lane" if lane else "grpc")
    assert proxy.cuts >= 2, f"only {proxy.cuts} cuts during {report['steps']} steps"


def test_async_stepping_needs_a_server_that_has_it(servers: dict[str, str]) -> None:
    """batch_size against a server of the previous release: ConfigError naming it; step() works as before."""
    import numpy as np

    from remote_gym.errors import ConfigError

    with pytest.raises(ConfigError, match="vector_async"):
        remote_gym.RemoteVectorEnv("CartPole-v1", 2, address=servers["previous"], batch_size=1)
    with remote_gym.RemoteVectorEnv("CartPole-v1", 2, address=servers["this"], batch_size=1) as envs:
        envs.async_reset(seed=0)
        envs.send(np.zeros(1, dtype=np.int64), envs.recv()[4]["env_id"])
        assert envs.recv()[4]["env_id"].shape == (1,)
