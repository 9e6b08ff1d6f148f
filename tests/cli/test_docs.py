"""README, examples and the cfssl files stay in step with the code."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from remote_gym.cli.main import build_parser

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    """The README gives `uv run remote-gym demo` and `uv run pytest`, after `pip install uv`."""
    install = README.index("pip install uv")
    assert install < README.index("uv run remote-gym demo") < README.index("uv run pytest")


def test_readme_commands_exist() -> None:
    """Every `remote-gym COMMAND` the README shows is a real subcommand."""
    parser = build_parser()
    [subparsers] = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    commands = set(re.findall(r"(?:uv run |`)remote-gym ([a-z]+)", README))
    assert {"demo", "serve", "interact", "bench", "certs"} <= commands
    assert commands <= set(subparsers.choices), commands - set(subparsers.choices)


def test_readme_links_exist() -> None:
    """Every relative link in the README points at a file or folder of the repository."""
    targets = re.findall(r"\]\(((?:examples|ssl|docs)[^)#]*)", README)
    assert any(target.startswith("docs/") for target in targets)
    for target in targets:
        assert (ROOT / target).exists(), target


def test_readme_is_a_first_screen() -> None:
    """README stays short (the site has the rest): at most 250 lines, install to a running env in 60."""
    lines = README.splitlines()
    assert len(lines) <= 250
    first = "\n".join(lines[:60])
    for step in (
        "pip install 'remote-gym>=1'",
        "remote-gym serve CartPole-v1",
        "RemoteEnvironment(",
        "env.step(",
    ):
        assert step in first, step


def test_readme_has_no_machine_paths_and_shows_figures() -> None:
    """No absolute paths of one machine; the Performance section shows measured figures."""
    assert not re.search(r"(/work/|/home/|/tmp/|/Users/|C:\\)", README)
    performance = README.split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert "steps/s" in performance
    assert "benchmarks/bench_step.py" in performance


def test_console_scripts_point_at_functions() -> None:
    """The console scripts of pyproject.toml resolve to callables."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for target in scripts.values():
        module, _, name = target.partition(":")
        assert callable(getattr(__import__(module, fromlist=[name]), name)), target


@pytest.mark.parametrize("name", ["ca-csr.json", "ca-config.json", "server-csr.json", "client-csr.json"])
def test_cfssl_files_are_json(name: str) -> None:
    """The ssl/ folder has the four cfssl configuration files, as valid JSON."""
    data = json.loads((ROOT / "ssl" / name).read_text())
    assert data
