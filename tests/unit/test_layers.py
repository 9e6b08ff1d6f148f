"""Imports only go down the layers of DESIGN.md §2; siblings never import each other."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "remote_gym"

# Layer of each top-level part of the package (DESIGN.md §2, STYLE.md §3.2).
LAYERS = {
    "errors": 0,
    "_constants": 0,
    "_lazy": 0,
    "_types": 0,
    "_version": 0,
    "capabilities": 0,
    "protocol": 1,
    "wire": 1,  # frames, handshake, control messages, polling: stdlib only (see test_wire_is_stdlib_only)
    "codec": 2,
    "transport": 2,
    "monitoring": 3,  # what a monitoring page shows (buckets, history, charts, the page), for server and hub
    "vector": 3,  # vector semantics for client and server: codec, errors, constants, protocol below it
    "server": 4,
    "client": 4,
    "testing": 5,
    "bench": 5,
    "ray": 5,
    "compat": 5,
    "cli": 6,
    "__main__": 6,
    "__init__": 7,
    "spaces": 7,  # a public namespace re-exporting codec names, like __init__
    "pettingzoo": 7,  # a public namespace re-exporting the multi-agent client, like __init__
    "hub": 4,  # beside server: routes sessions to hosts that dial out, never decodes them
}
# Pairs that must never import each other (same layer, or a layer that works without gRPC).
FORBIDDEN_SIBLINGS = {
    ("wire", "protocol"),
    ("protocol", "wire"),
    ("vector", "transport"),
    ("codec", "transport"),
    ("transport", "codec"),
    ("server", "client"),
    ("client", "server"),
    ("hub", "server"),
    ("server", "hub"),
    ("hub", "client"),
    ("client", "hub"),
    ("testing", "ray"),
    ("ray", "testing"),
    ("bench", "ray"),
    ("ray", "bench"),
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "remote_gym":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "remote_gym":  # `from remote_gym import errors` imports the submodule
                found.extend(f"remote_gym.{alias.name}" for alias in node.names)
            else:
                found.append(node.module)
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "protocol" not in p.relative_to(PACKAGE).parts[:1])


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_imports_go_down(path: pathlib.Path) -> None:
    """A module imports only from its own part or lower layers, and never a forbidden sibling."""
    rel = path.relative_to(PACKAGE)
    own = rel.parts[0].removesuffix(".py")
    for module in _imports(path):
        target = _part(module)
        if target is None or target == own:
            continue
        assert target in LAYERS, f"{rel}: unknown part {target!r}; add it to LAYERS"
        assert (own, target) not in FORBIDDEN_SIBLINGS, f"{rel} imports its sibling {module}"
        assert LAYERS[target] <= LAYERS[own], (
            f"{rel} (layer {LAYERS[own]}) imports {module} (layer {LAYERS[target]})"
        )


def test_wire_is_stdlib_only() -> None:
    """The wire layer imports the standard library, remote_gym.errors and itself, nothing else."""
    allowed = set(sys.stdlib_module_names) | {"remote_gym"}
    for path in (PACKAGE / "wire").rglob("*.py"):
        for module in _imports(path):
            assert module.split(".")[0] in allowed, f"{path.name} imports {module}"
            if module.startswith("remote_gym."):
                assert module.startswith(("remote_gym.wire", "remote_gym.errors")), (
                    f"{path.name} imports {module}"
                )


@pytest.mark.parametrize("part", ["codec", "vector"])
def test_part_never_imports_grpc(part: str) -> None:
    """The codec and vector layers work without grpc: they never import grpc or generated service stubs."""
    for path in (PACKAGE / part).rglob("*.py"):
        for module in _imports(path):
            assert not module.startswith("grpc"), f"{path.name} imports {module}"
            assert not module.endswith("_pb2_grpc"), f"{path.name} imports {module}"


# The server package is laid out by process: ``handlers`` runs where the env runs (a worker, or the
# server for in-process hosting), ``hosting`` is how the gRPC process reaches it, and the rest of
# ``server`` is the gRPC process. Each may import only the parts listed for it.
SERVER_PARTS_ALLOWED = {
    "handlers": {"handlers"},
    "hosting": {"handlers", "hosting"},
    "server": {"handlers", "hosting", "server"},
}


def _server_part(rel: pathlib.PurePath) -> str:
    return rel.parts[1] if len(rel.parts) > 2 and rel.parts[1] in ("handlers", "hosting") else "server"


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if p.relative_to(PACKAGE).parts[0] == "server"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_server_parts_import_down(path: pathlib.Path) -> None:
    """Env-side handlers never import hosting or the gRPC process's modules, hosting never the latter."""
    rel = path.relative_to(PACKAGE)
    own = _server_part(rel)
    for module in _imports(path):
        parts = module.split(".")
        if parts[:2] != ["remote_gym", "server"] or len(parts) < 3:
            continue
        target = parts[2] if parts[2] in ("handlers", "hosting") else "server"
        assert target in SERVER_PARTS_ALLOWED[own], f"{rel} ({own}) imports {module} ({target})"


def test_handlers_never_import_grpc() -> None:
    """What runs beside the env imports neither grpc nor the transport layer built on it."""
    for path in (PACKAGE / "server" / "handlers").rglob("*.py"):
        for module in _imports(path):
            assert not module.startswith(("grpc", "remote_gym.transport")), f"{path.name} imports {module}"


def test_a_worker_process_loads_no_grpc() -> None:
    """Importing what a worker runs (and the package itself) loads neither grpc nor cryptography."""
    import subprocess
    import sys

    code = (
        "import sys, remote_gym, remote_gym.server.hosting.worker_main; "
        "print(sorted(m for m in ('grpc', 'cryptography', 'remote_gym.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_remote_gym_never_imports_ray() -> None:
    """``import remote_gym`` (and its client and server) loads neither Ray nor remote_gym.ray."""
    code = (
        "import sys, remote_gym, remote_gym.client.factory, remote_gym.server.server, remote_gym.cli.main; "
        "loaded = sorted(m for m in sys.modules if m == 'ray' or m.startswith(('ray.', 'remote_gym.ray'))); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
