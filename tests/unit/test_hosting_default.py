"""Hosting "auto" is worker processes everywhere: forked on Linux, spawned where fork is missing or unsafe."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig, fork_available
from remote_gym.server.registry import make_entry

_ENVS = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the default on Linux only")
def test_auto_is_forked_processes_on_linux() -> None:
    config = ServerConfig(environments=_ENVS)
    assert (config.hosting, config.worker_start, config.lane_transport) == ("process", "fork", "unix")


def test_without_fork_auto_is_spawned_processes_and_fork_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork", raising=False)
    assert not fork_available()
    config = ServerConfig(environments=_ENVS)
    assert (config.hosting, config.worker_start) == ("process", "spawn")
    with pytest.raises(ConfigError, match='use "spawn"'):
        ServerConfig(environments=_ENVS, worker_start="fork")
    assert ServerConfig(environments=_ENVS, hosting="inline").hosting == "inline"


def test_without_unix_sockets_the_lane_is_tcp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "AF_UNIX", raising=False)
    assert ServerConfig(environments=_ENVS, worker_start="spawn").lane_transport == "tcp"
    with pytest.raises(ConfigError, match='use "tcp"'):
        ServerConfig(environments=_ENVS, worker_start="spawn", lane_transport="unix")


def test_warm_workers_need_spawned_processes() -> None:
    assert ServerConfig(environments=_ENVS, worker_start="spawn", warm_workers=2).warm_workers == 2
    with pytest.raises(ConfigError, match="warm_workers"):
        ServerConfig(environments=_ENVS, worker_start="spawn", hosting="inline", warm_workers=1)
    with pytest.raises(ConfigError, match="warm_workers must be"):
        ServerConfig(environments=_ENVS, worker_start="spawn", warm_workers=-1)
    with pytest.raises(ConfigError, match="worker_start must be"):
        ServerConfig(environments=_ENVS, worker_start="thread")


def test_serve_flags_reach_the_config() -> None:
    from remote_gym.cli.main import build_parser
    from remote_gym.cli.serve import build_config

    args = build_parser().parse_args(
        ["serve", "CartPole-v1", "--worker-start", "spawn", "--warm-workers", "2", "--lane-transport", "tcp"]
    )
    config = build_config(args)
    assert (config.worker_start, config.warm_workers, config.lane_transport) == ("spawn", 2, "tcp")
