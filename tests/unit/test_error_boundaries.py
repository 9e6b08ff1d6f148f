"""Foreign errors become ours in one boundary per side, never scattered through the package.

The client side translates in ``transport/status.py``, the hosting side in ``server/handlers/foreign.py``
(STYLE.md R7, httpx's one exception-mapping boundary). Anywhere else, a handler of a foreign error
(gRPC, sockets and other ``OSError``, timeouts, protobuf parsing) may log, clean up, re-raise, or call
a boundary function: it may not build a remote-gym error itself.

A failing test here names the file and line; route that site through its side's boundary.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "remote_gym"

HOMES = {"transport/status.py", "server/handlers/foreign.py", "hub/foreign.py"}

# Foreign exception classes, by the name a handler spells them with (``socket.error``, ``grpc.RpcError``).
FOREIGN = {
    "RpcError",
    "AioRpcError",
    "OSError",
    "IOError",
    "EnvironmentError",
    "ConnectionError",
    "BrokenPipeError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "ConnectionRefusedError",
    "TimeoutError",
    "timeout",
    "gaierror",
    "herror",
    "SSLError",
    "SSLEOFError",
}
# Catch-alls count as foreign where the ``try`` parses protobuf bytes (protobuf raises its DecodeError).
CATCH_ALL = {"Exception", "BaseException"}
PARSERS = {"FromString", "ParseFromString"}

# An OSError on a file or port the caller configured is a configuration error, raised where the
# configuration is read (a path that cannot be read, a port that cannot be bound): not a peer's failure.
ALLOWED = {"ConfigError"}


def _sources() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "protocol")


def _rel(path: pathlib.Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _our_errors(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to remote_gym.errors classes, and names bound to the remote_gym.errors module."""
    classes, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "remote_gym.errors":
            classes.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "remote_gym":
            modules.update(alias.asname or alias.name for alias in node.names if alias.name == "errors")
        elif isinstance(node, ast.Import):
            modules.update(alias.asname or "" for alias in node.names if alias.name == "remote_gym.errors")
    return classes, modules - {""}


def _caught(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return {"BaseException"}
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = set()
    for node in types:
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


def _parses(body: list[ast.stmt]) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr in PARSERS for stmt in body for node in ast.walk(stmt)
    )


def translations(path: pathlib.Path, root: pathlib.Path = PACKAGE) -> Iterator[str]:
    """``file:line: what`` for every foreign-error handler of ``path`` that builds one of our errors."""
    tree = ast.parse(path.read_text())
    classes, modules = _our_errors(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            caught = _caught(handler)
            if not (caught & FOREIGN or (caught & CATCH_ALL and _parses(node.body))):
                continue
            for call in (n for stmt in handler.body for n in ast.walk(stmt) if isinstance(n, ast.Call)):
                func = call.func
                if isinstance(func, ast.Name) and func.id in classes - ALLOWED:
                    built = func.id
                elif (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id in modules
                    and func.attr not in ALLOWED
                ):
                    built = func.attr
                else:
                    continue
                yield f"{path.relative_to(root).as_posix()}:{call.lineno}: except {'/'.join(sorted(caught))} builds {built}"


def test_the_homes_exist() -> None:
    """The boundaries this test protects are where it says (else it would check nothing)."""
    for home in HOMES:
        assert (PACKAGE / home).is_file(), home
    assert "def foreign_error" in (PACKAGE / "transport/status.py").read_text()
    assert "def parse_request" in (PACKAGE / "server/handlers/foreign.py").read_text()


@pytest.mark.parametrize(
    "path",
    [p for p in _sources() if _rel(p) not in HOMES],
    ids=lambda p: _rel(p),
)
def test_no_translation_outside_the_boundaries(path: pathlib.Path) -> None:
    """No handler of a foreign error builds a remote-gym error outside the two boundaries."""
    assert list(translations(path)) == []


def test_grpc_statuses_are_read_only_in_the_client_boundary() -> None:
    """Only transport/status.py turns a gRPC status into an error (``rpc_error_to_exception``)."""
    users = {
        _rel(path)
        for path in _sources()
        if "rpc_error_to_exception" in path.read_text() and _rel(path) not in HOMES
    }
    assert not users, users


def _parse_calls(path: pathlib.Path) -> list[str]:
    """``X.Y.FromString`` calls of ``path``, as ``Y`` (``Request``, ``Response``, ...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in PARSERS:
            owner = node.func.value
            found.append(owner.attr if isinstance(owner, ast.Attribute) else ast.unparse(owner))
    return found


def test_wire_bytes_are_parsed_in_the_boundaries() -> None:
    """A client's request and a server's reply to the client are parsed by the boundaries alone.

    Requests come from clients, replies (on the client) from servers: bytes nobody here vouches for.
    (The server parses its own workers' replies where it reads them.)
    """
    outside = {}
    for path in _sources():
        rel = _rel(path)
        if rel in HOMES:
            continue
        calls = _parse_calls(path)
        suspect = [c for c in calls if c == "Request" or rel.startswith("client/")]
        if suspect:
            outside[rel] = suspect
    assert outside == {}


def test_the_scan_finds_a_translation(tmp_path: pathlib.Path) -> None:
    """The scan itself: a handler of grpc.RpcError or of protobuf parsing that builds our error is found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import grpc\n"
        "from remote_gym import errors\n"
        "from remote_gym.errors import ConfigError, ConnectionLostError\n"
        "def f(call, pb, data):\n"
        "    try:\n"
        "        call()\n"
        "    except grpc.RpcError as exc:\n"
        "        raise ConnectionLostError(str(exc)) from exc\n"
        "    try:\n"
        "        pb.Request.FromString(data)\n"
        "    except Exception as exc:\n"
        "        return errors.InvalidCallError(str(exc))\n"
        "    try:\n"
        "        open('x')\n"
        "    except OSError as exc:\n"
        "        raise ConfigError(str(exc)) from exc\n"
    )
    found = list(translations(sample, root=tmp_path))
    assert [line.split(": ", 1)[0] for line in found] == ["sample.py:8", "sample.py:12"]
