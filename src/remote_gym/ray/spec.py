"""What one Ray-launched server hosts, in a form that travels to its node: files as bytes, no paths."""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.provision import Checkout, check_relative, checkout, public_url, resolve_reference
from remote_gym.server.registry import EnvEntry, make_entry
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.grpc_init import (
    GRPC_EXPERIMENTS_VAR,
    IOMGR_EXPERIMENTS,
    applies_to,
)
from remote_gym.transport.tls import ServerTLSConfig

MAX_SHIPPED_BYTES = 16 * 1024 * 1024
"""Largest entrypoint directory shipped to the nodes with each server's spec."""


@dataclass(frozen=True, kw_only=True)
class ServerSpec:
    """One server's environment, credentials and options; pickled to each node by Ray."""

    name: str
    """Name clients ask for."""
    gym_id: str | None = None
    """A registered Gymnasium id (``"module:Id"`` imports the module on the node first)."""
    entrypoint: str | None = None
    """File name of the entrypoint, relative to the shipped directory (or to ``repo``'s root)."""
    repo: str | None = None
    """The operator's git repository the entrypoint is in; every node checks out ``commit``."""
    commit: str | None = None
    """The commit of ``repo``, resolved once on the driver, so that every node runs the same code."""
    repo_cache_dir: str | None = None
    """Where nodes keep checkouts (None: each node's default, see ``server.provision``)."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """The entrypoint's directory: relative path -> content, written to a private directory on the node."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Operator's keyword arguments for the environment."""
    allowed_kwargs: tuple[str, ...] | str | None = None
    """What clients may set (None: the keys of ``kwargs``)."""
    tls_pem: tuple[bytes, bytes, bytes | None] | None = None
    """``(cert, key, client_ca)`` PEM contents, read on the driver."""
    tokens: tuple[str, ...] = ()
    """Bearer tokens the server accepts."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Other :class:`ServerConfig` fields."""

    def __repr__(self) -> str:  # never show keys or tokens
        what = self.gym_id or self.entrypoint
        if self.repo is not None and self.commit is not None:
            what = f"{what} @ {public_url(self.repo)} {self.commit[:12]}"
        return f"ServerSpec({self.name}: {what}, tls={self.tls_pem is not None}, tokens={len(self.tokens)})"

    def code_dir(self, workdir: str) -> str:
        """Where this node finds the entrypoint: ``repo`` checked out at ``commit`` (cached), else ``workdir``.

        Raises:
            ConfigError: The node cannot check the commit out.
        """
        if self.repo is None or self.commit is None:
            return workdir
        return str(checkout(self.repo, self.commit, cache_dir=self.repo_cache_dir).path)

    def entry(self, code_dir: str) -> EnvEntry:
        """The registry entry, with the entrypoint found in ``code_dir`` (see :meth:`code_dir`)."""
        entrypoint: str | pathlib.Path | None = None
        if self.entrypoint is not None and self.repo is not None and self.commit is not None:
            entrypoint = Checkout(self.repo, self.commit, pathlib.Path(code_dir)).file(self.entrypoint)
        elif self.entrypoint is not None:
            entrypoint = os.path.join(code_dir, self.entrypoint)
        return make_entry(
            self.name,
            gym_id=self.gym_id,
            entrypoint=entrypoint,
            kwargs=self.kwargs,
            allowed_kwargs=self.allowed_kwargs,
            repo=public_url(self.repo) if self.repo is not None else None,
            commit=self.commit,
        )

    def server_tls(self, secrets_dir: str) -> ServerTLSConfig | None:
        """The servers' TLS (also the cluster hub's), its files written to ``secrets_dir``; None: plaintext."""
        if self.tls_pem is None:
            return None
        cert, key, ca = self.tls_pem
        paths = [write_secret(secrets_dir, name, data) for name, data in (("cert", cert), ("key", key))]
        ca_path = write_secret(secrets_dir, "ca", ca) if ca else None
        return ServerTLSConfig(cert=paths[0], key=paths[1], client_ca=ca_path)

    def config(self, host: str, code_dir: str, secrets_dir: str) -> ServerConfig:
        """The server's configuration on ``host`` (a free port), its TLS files written to ``secrets_dir``."""
        return ServerConfig(
            environments=(self.entry(code_dir),),
            host=host,
            port=0,
            tls=self.server_tls(secrets_dir),
            tokens=tuple(TokenAuth(t) for t in self.tokens),
            **dict(self.options),
        )


def write_secret(directory: str, name: str, data: bytes) -> str:
    """Write ``data`` to ``directory/name.pem``, readable by this user only; returns the path."""
    path = os.path.join(directory, f"{name}.pem")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return path


def private_dir(files: Mapping[str, bytes] | None = None) -> str:
    """A new private directory (for one server's TLS files, or its copy of ``files``)."""
    root = tempfile.mkdtemp(prefix="remote-gym-")
    for name, data in (files or {}).items():
        path = pathlib.Path(root, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _directory_files(root: pathlib.Path) -> dict[str, bytes]:
    """Every file under ``root`` but hidden ones and caches, refusing more than MAX_SHIPPED_BYTES."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            continue
        total += path.stat().st_size
        if total > MAX_SHIPPED_BYTES:
            raise ConfigError(
                f"the entrypoint's directory {root} holds more than {MAX_SHIPPED_BYTES} bytes: move the "
                "entrypoint to a directory of its own, or install the code on every node"
            )
        files[str(rel)] = path.read_bytes()
    return files


def build_spec(
    env: str | None,
    *,
    entrypoint: str | os.PathLike[str] | None,
    kwargs: Mapping[str, Any] | None,
    allowed_kwargs: tuple[str, ...] | str | None,
    tls: ServerTLSConfig | None,
    tokens: tuple[str, ...],
    options: Mapping[str, Any] | None,
    repo: str | None = None,
    reference: str | None = None,
    repo_cache_dir: str | os.PathLike[str] | None = None,
) -> ServerSpec:
    """The spec of every server; an entrypoint's directory is read into it, to be shipped to the nodes.

    With ``repo``, ``entrypoint`` is a path in that git repository and ``reference`` is resolved to a
    commit here, once: every node checks out that commit (nothing is read from this machine).

    Raises:
        ConfigError: Neither or both of ``env`` and ``entrypoint``, a file that cannot be read, or a
            repository or reference that cannot be resolved.
    """
    if (env is None) == (entrypoint is None):
        raise ConfigError("EnvCluster.launch needs exactly one of env (a Gymnasium id) and entrypoint")
    if repo is None and reference is not None:
        raise ConfigError("EnvCluster.launch got a reference but no repo")
    if repo is not None and entrypoint is None:
        raise ConfigError("EnvCluster.launch with a repo needs entrypoint (a file in the repository)")
    tls_pem = None
    if tls is not None:
        try:
            ca = pathlib.Path(tls.client_ca).read_bytes() if tls.client_ca else None
            tls_pem = (pathlib.Path(tls.cert).read_bytes(), pathlib.Path(tls.key).read_bytes(), ca)
        except OSError as exc:
            raise ConfigError(f"cannot read the servers' TLS files: {exc}") from exc
    name = env or ""
    file_name = None
    files: dict[str, bytes] = {}
    commit = None
    if repo is not None:
        assert entrypoint is not None
        file_name = os.fspath(entrypoint)
        check_relative(file_name)
        name = pathlib.PurePosixPath(file_name).stem
        commit = resolve_reference(repo, reference)
    elif entrypoint is not None:
        path = pathlib.Path(entrypoint).resolve()
        if not path.is_file():
            raise ConfigError(f"entrypoint file {str(entrypoint)!r} does not exist")
        file_name, name, files = path.name, path.stem, _directory_files(path.parent)
    return ServerSpec(
        name=name,
        gym_id=env,
        entrypoint=file_name,
        repo=repo,
        commit=commit,
        repo_cache_dir=os.fspath(repo_cache_dir) if repo_cache_dir is not None else None,
        files=files,
        kwargs=dict(kwargs or {}),
        allowed_kwargs=allowed_kwargs,
        tls_pem=tls_pem,
        tokens=tokens,
        options=dict(options or {}),
    )


RAY_NICENESS_VAR = "RAY_worker_niceness"
"""Ray starts its worker processes at this niceness (15 unless set), the server's as well."""


def server_runtime_env() -> dict[str, Any]:
    """Ray's runtime environment for a server actor: normal CPU priority and gRPC's faster transport.

    Ray lowers the CPU priority of its worker processes (``nice 15``) so that its own control
    processes stay responsive; a server is the workload, and its zygote and session workers
    inherit its niceness. Beside other busy processes, servers at nice 15 stepped 0.36x as fast as
    hand-started ones (benchmarks/bench_ray.py --load 2), so a server runs at niceness 0, like one
    started by hand (Ray's job supervisor does the same).

    A Ray worker imports grpc before remote_gym can choose its transport (see
    ``remote_gym.transport.grpc_init``), so the choice travels as an environment variable, decided on
    this machine for nodes assumed to run the same grpcio (a ``GRPC_EXPERIMENTS`` set here wins).
    """
    env_vars = {RAY_NICENESS_VAR: os.environ.get(RAY_NICENESS_VAR, "0")}  # one set here wins
    if GRPC_EXPERIMENTS_VAR in os.environ:
        env_vars[GRPC_EXPERIMENTS_VAR] = os.environ[GRPC_EXPERIMENTS_VAR]
    elif sys.platform.startswith("linux") and applies_to(metadata.version("grpcio")):
        env_vars[GRPC_EXPERIMENTS_VAR] = IOMGR_EXPERIMENTS
    return {"env_vars": env_vars}
