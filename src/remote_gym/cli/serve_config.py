"""The ServerConfig a `remote-gym serve` command line describes: environments, TLS, tokens, limits."""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

import gymnasium as gym

from remote_gym.cli.dial_options import dial_options
from remote_gym.cli.lane_options import network_lane
from remote_gym.cli.options import server_tls, token
from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig
from remote_gym.server.provision import check_relative, provision, public_url
from remote_gym.server.registry import ANY_KWARGS, EnvEntry, make_entry


def build_config(args: argparse.Namespace) -> ServerConfig:
    """The server configuration the arguments describe.

    Raises:
        ConfigError: Nothing to host, an unknown Gymnasium id, a missing entrypoint file, a
            repository or reference that cannot be checked out, or inconsistent TLS flags.
    """
    allowed = _allowed(args.allow_kwargs)
    entries: list[EnvEntry] = []
    for env_id in args.envs:
        _check_gym_id(env_id)
        entries.append(make_entry(env_id, gym_id=env_id, kwargs=args.kwargs, allowed_kwargs=allowed))
    for name in args.pettingzoo:
        entries.append(make_entry(name, pettingzoo=name, kwargs=args.kwargs, allowed_kwargs=allowed))
    if args.reference and not args.repo:
        raise ConfigError("--reference needs --repo")
    if args.repo and not args.entrypoint:
        raise ConfigError("--repo needs --entrypoint: the file of the repository to load")
    checkout = None
    if args.repo:
        for file in args.entrypoint:
            check_relative(file)  # before any clone
        checkout = provision(args.repo, args.reference, cache_dir=args.repo_cache)
    for file in args.entrypoint:
        path = checkout.file(file) if checkout is not None else file
        entries.append(
            make_entry(
                pathlib.Path(file).stem,
                entrypoint=path,
                kwargs=args.kwargs,
                allowed_kwargs=allowed,
                repo=public_url(checkout.repo) if checkout is not None else None,
                commit=checkout.commit if checkout is not None else None,
            )
        )
    if not entries:
        raise ConfigError(
            "nothing to host: name a Gymnasium id (remote-gym serve CartPole-v1) or an entrypoint file "
            "(remote-gym serve --entrypoint envs/entry.py)"
        )
    return ServerConfig(
        environments=tuple(entries),
        host=args.host,
        port=args.port,
        health_port=args.health_port,
        tls=server_tls(args),
        hosting=args.hosting,
        worker_start=args.worker_start,
        warm_workers=args.warm_workers,
        lane_transport=args.lane_transport,
        network_lane=network_lane(args),
        max_sessions=args.max_sessions,
        tokens=(tok,) if (tok := token(args)) else (),
        session_idle_timeout_s=args.idle_timeout,
        max_call_s=args.max_call_time,
        resume_window_s=args.resume_window,
        max_kwargs_bytes=args.max_kwargs_bytes,
        spin_us=args.spin_us,
        metrics_port=args.metrics_port,
        web_port=args.web_port,
        **dial_options(args),
    )


def _allowed(text: str | None) -> Any:
    if text is None:
        return None
    if text.strip() == ANY_KWARGS:
        return ANY_KWARGS
    return [name.strip() for name in text.split(",") if name.strip()]


NAMESPACE_MODULES = {"ALE": "ale_py", "MiniGrid": "minigrid", "BabyAI": "minigrid"}
"""The module that registers a Gymnasium namespace when imported, for the hint of an unknown namespace."""


def _check_gym_id(env_id: str) -> None:
    if (
        ":" in env_id
    ):  # "module:Id" is imported by the worker; importing it here would run operator code twice
        return
    try:
        gym.spec(env_id)
    except gym.error.NamespaceNotFound as exc:
        # Another package's envs (ALE/Pong-v5) are registered when that package is imported.
        namespace = env_id.split("/", 1)[0]
        module = NAMESPACE_MODULES.get(namespace, "PACKAGE")
        raise ConfigError(
            f"{env_id!r} is not a registered Gymnasium id: {exc} Its namespace {namespace!r} is registered when its "
            f"package is imported: serve '{module}:{env_id}' (the form gymnasium.make accepts), with that "
            "package installed"
        ) from exc
    except gym.error.Error as exc:
        raise ConfigError(f"{env_id!r} is not a registered Gymnasium id: {exc}") from exc
