"""The 0.7.x entry point: ``create_remote_environment_server(default_args, url, port, ...)`` -> a started EnvServer."""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Mapping
from typing import Any

from remote_gym._constants import DEFAULT_PORT
from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.provision import check_relative, provision, public_url
from remote_gym.server.registry import EnvEntry, make_entry
from remote_gym.server.server import EnvServer
from remote_gym.transport.tls import PathLike, ServerTLSConfig

logger = logging.getLogger(__name__)


def create_remote_environment_server(
    default_args: Mapping[str, Any] | None = None,
    url: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    server_credentials_paths: tuple[PathLike | None, ...] | None = None,
    *,
    environments: Mapping[str, Mapping[str, Any]] | None = None,
    allowed_kwargs: Any = None,
    hosting: str = "auto",
    max_sessions: int = 256,
    use_thread: bool | None = None,
    repo_cache_dir: PathLike | None = None,
    **options: Any,
) -> EnvServer:
    """Start a server hosting environments (the 0.7.x entry point, source-compatible).

    Args:
        default_args: The default environment, as in 0.7.x: ``{"entrypoint": "envs/entry.py",
            "entrypoint_kwargs": {...}}``, or ``{"env_id": "CartPole-v1", "entrypoint_kwargs": {...}}``
            for a registered Gymnasium id, or ``{"pettingzoo": "butterfly/pistonball-v6"}`` for a
            PettingZoo env (a registry id, a module, or ``module:callable``). With ``"repo": URL`` (and ``"reference"``: a branch, tag
            or commit; default: the repository's default branch), ``entrypoint`` is a path in that git
            repository, which is resolved to a commit and checked out into ``repo_cache_dir`` first
            (as in 0.7.x; ``server_info()`` reports the commit). Clients can never name code.
        url: Address to bind (``0.0.0.0`` for every interface).
        port: Port to bind; 0 picks a free one, exposed as ``server.port``.
        server_credentials_paths: ``(cert, key)`` for TLS or ``(cert, key, ca)`` for mutual TLS;
            None for local credentials on a loopback url, plaintext otherwise.
        environments: More environments by name, each a dict like ``default_args``.
        allowed_kwargs: Keyword arguments clients may set on the default environment: names, or
            ``"*"`` for any. Default: exactly the keys of its ``entrypoint_kwargs``.
        hosting: ``"process"`` (a worker process per session), ``"inline"``, or ``"auto"``:
            process where the platform allows it (not on Windows), else inline.
        max_sessions: Sessions open at once (0: unlimited).
        use_thread: Accepted for 0.7.x compatibility: True means ``hosting="inline"``.
        repo_cache_dir: Where ``repo`` checkouts are kept, one directory per repository and commit
            (default: ``$REMOTE_GYM_REPO_CACHE``, else ``~/.cache/remote-gym/repos``).
        **options: Other :class:`ServerConfig` fields.

    Returns:
        The started server; call ``wait_for_termination()`` or ``stop(grace)``, or use it in ``with``.

    Raises:
        ConfigError: Invalid arguments, or a repository or reference that cannot be checked out.
    """
    if use_thread:
        hosting = "inline"
    entries: list[EnvEntry] = []
    if default_args is not None:
        entries.append(_entry_from_args("default", default_args, allowed_kwargs, repo_cache_dir))
    for name, args in (environments or {}).items():
        entries.append(_entry_from_args(name, args, args.get("allowed_kwargs"), repo_cache_dir))
    tls = ServerTLSConfig.from_paths(server_credentials_paths) if server_credentials_paths else None
    config = ServerConfig(
        environments=tuple(entries),
        host=url,
        port=port,
        tls=tls,
        hosting=hosting,
        max_sessions=max_sessions,
        **options,
    )
    return EnvServer(config).start()


_ARG_KEYS = {
    "entrypoint",
    "entrypoint_kwargs",
    "env_id",
    "pettingzoo",
    "kwargs",
    "allowed_kwargs",
    "repo",
    "reference",
}


def _entry_from_args(
    name: str, args: Mapping[str, Any], allowed: Any, repo_cache_dir: PathLike | None
) -> EnvEntry:
    unknown = set(args) - _ARG_KEYS
    if unknown:
        raise ConfigError(f"unknown keys in the arguments of environment {name!r}: {sorted(unknown)}")
    kwargs = dict(args.get("entrypoint_kwargs") or args.get("kwargs") or {})
    gym_id = args.get("env_id")
    entrypoint = args.get("entrypoint")
    pettingzoo = args.get("pettingzoo")
    if name == "default":  # name the default after what it runs
        name = str(gym_id or pettingzoo or pathlib.Path(str(entrypoint or "default")).stem)
    repo, commit = args.get("repo"), None
    if repo is None and args.get("reference") is not None:
        raise ConfigError(f"environment {name!r} names a reference but no repo")
    if repo is not None:
        if entrypoint is None:
            raise ConfigError(f"environment {name!r}: repo needs an entrypoint (a file in the repository)")
        check_relative(str(entrypoint))  # before any clone
        checkout = provision(str(repo), args.get("reference"), cache_dir=repo_cache_dir)
        entrypoint, commit, repo = checkout.file(str(entrypoint)), checkout.commit, public_url(str(repo))
        logger.info("environment %s: %s at commit %s", name, repo, commit)
    return make_entry(
        name,
        gym_id=gym_id,
        entrypoint=entrypoint,
        pettingzoo=pettingzoo,
        kwargs=kwargs,
        allowed_kwargs=allowed,
        repo=repo,
        commit=commit,
    )
