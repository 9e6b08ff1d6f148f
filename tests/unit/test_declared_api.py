"""The declared public API: a committed list of names, public namespaces that stay cheap, docs that use them.

``public_names.txt`` is the contract. A name that disappears from a module fails here (users' imports
would break); a name that appears fails too, until it is added to the list on purpose. Examples and
the code blocks of README.md and docs/ import only public modules and public names.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import re
import subprocess
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAMES_FILE = pathlib.Path(__file__).with_name("public_names.txt")

# Modules a user may import: the namespaces with an ``__all__``, and the documented public
# subpackages and their documented modules (DESIGN.md, README "Testing your own setup").
PUBLIC_MODULES = {
    "remote_gym",
    "remote_gym.client",
    "remote_gym.server",
    "remote_gym.errors",
    "remote_gym.codec",
    "remote_gym.spaces",
    "remote_gym.ray",
    "remote_gym.pettingzoo",
    "remote_gym.testing",
    "remote_gym.testing.checks",
    "remote_gym.testing.envs",
    "remote_gym.testing.server",
}


def _declared() -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {}
    for line in NAMES_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            module, name = line.split()
            declared.setdefault(module, set()).add(name)
    return declared


def _exported(module: types.ModuleType) -> set[str]:
    """What a module offers: its ``__all__``; for ``remote_gym.errors``, its classes and ``SERVER_ERRORS``."""
    if module.__name__ == "remote_gym.errors":
        return {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and ((inspect.isclass(value) and value.__module__ == module.__name__) or name == "SERVER_ERRORS")
        }
    return set(module.__all__)


@pytest.mark.parametrize("module_name", sorted(_declared()))
def test_public_names_match_the_committed_list(module_name: str) -> None:
    """Each module exports exactly the committed names, and every one of them resolves."""
    module = importlib.import_module(module_name)
    declared, exported = _declared()[module_name], _exported(module)
    assert declared - exported == set(), f"public names gone from {module_name}"
    assert exported - declared == set(), f"new public names of {module_name}: add them to {NAMES_FILE.name}"
    for name in sorted(declared):
        assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_the_namespaces_are_declared_sorted() -> None:
    """remote_gym, its client and its server list ``__all__`` sorted, and name the same objects."""
    import remote_gym
    import remote_gym.client
    import remote_gym.server

    for module in (remote_gym, remote_gym.client, remote_gym.server):
        assert module.__all__ == sorted(module.__all__), module.__name__
        assert set(module.__all__) <= set(dir(module)), module.__name__
    for name in set(remote_gym.client.__all__) & set(remote_gym.__all__):
        assert getattr(remote_gym.client, name) is getattr(remote_gym, name), name
    for name in set(remote_gym.server.__all__) & set(remote_gym.__all__):
        assert getattr(remote_gym.server, name) is getattr(remote_gym, name), name
    with pytest.raises(AttributeError):
        _ = remote_gym.server.no_such_name  # type: ignore[attr-defined]


def test_a_worker_or_the_zygote_loads_no_grpc() -> None:
    """What the zygote and a worker import, with the server namespace and its ``__all__``, loads no gRPC.

    ``remote_gym.server`` is imported by every worker process (it holds ``handlers``): its public
    names must stay lazy.
    """
    code = (
        "import sys, remote_gym, remote_gym.server, remote_gym.server.hosting.zygote, "
        "remote_gym.server.hosting.worker_main; names = remote_gym.server.__all__; "
        "print(sorted(m for m in ('grpc', 'cryptography', 'remote_gym.client', 'remote_gym.server.server') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^[ \t]*```python\n(.*?)^[ \t]*```", text, flags=re.S | re.M)


def _documented_code() -> list[tuple[str, str]]:
    sources = [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / "examples").glob("*.py"))]
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for i, block in enumerate(_code_blocks(page.read_text())):
            lines = block.splitlines()
            indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
            sources.append(
                (f"{page.relative_to(ROOT)} block {i}", "\n".join(line[indent:] for line in lines))
            )
    return sources


DOCUMENTED = _documented_code()


def test_the_docs_have_code_to_check() -> None:
    """The scan below sees the examples and README's blocks (else it would check nothing)."""
    where = {origin.split(" ")[0] for origin, _ in DOCUMENTED}
    assert "README.md" in where
    assert any(origin.startswith("examples/") for origin in where)


@pytest.mark.parametrize(("origin", "source"), DOCUMENTED, ids=[origin for origin, _ in DOCUMENTED])
def test_examples_and_docs_import_only_public_names(origin: str, source: str) -> None:
    """Examples and documented code import public modules, and from them only public names."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module_name, name in modules:
            if not module_name.startswith("remote_gym"):
                continue
            if name is not None and f"{module_name}.{name}" in PUBLIC_MODULES:
                continue  # `from remote_gym import errors`
            assert module_name in PUBLIC_MODULES, f"{origin} imports the private module {module_name}"
            if name is not None:
                module = importlib.import_module(module_name)
                public = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
                assert name in public, f"{origin} imports {name}, not public in {module_name}"


def test_the_package_is_typed_and_the_wheel_holds_only_it() -> None:
    """``py.typed`` ships, and the wheel is built from the package folder alone.

    Read from pyproject.toml: the build itself needs the build backend, which a unit test should not
    download; hatchling puts exactly the listed package (all its files, py.typed included) and the
    dist-info in the wheel when nothing is force-included.
    """
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    assert (ROOT / "src" / "remote_gym" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["build-system"]["build-backend"] == "hatchling.build"
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel == {"packages": ["src/remote_gym"]}, "the wheel may carry only the package"
    assert "force-include" not in config["tool"]["hatch"]["build"]
