"""Shared pytest fixtures for the whole test-suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest

from remote_gym.server.server import EnvServer
from remote_gym.testing.envs import IMPORTABLE_ENV_IDS
from remote_gym.testing.server import running_server
from remote_gym.transport.certs import CertPaths, generate_dev_certs


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    """A development CA with server (localhost, 127.0.0.1, ::1) and client certificates."""
    return generate_dev_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def other_tls_material(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    """A second, unrelated CA and certificates, for wrong-CA tests."""
    return generate_dev_certs(tmp_path_factory.mktemp("tls-other"), ca_name="unrelated test CA")


# Headless pygame for render_mode="human" clients (check_env opens every declared render mode).
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

GYM_ENVS = (
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "FrozenLake-v1",
    "Taxi-v4",
    "Blackjack-v1",
)
"""Gymnasium's own environments every remote test runs against."""

TEST_ENVS = ("DictSpaces", "TupleSpaces", "Graph", "Frame")
"""remote_gym.testing.envs environments covering the remaining space types."""

FAULTY_ENVS = ("Raising", "Exiting", "Aborting", "Hanging")
"""remote_gym.testing.envs environments that fail on purpose."""


def hosted_environments() -> dict[str, dict[str, Any]]:
    """Everything the shared test server hosts; clients may set any kwarg."""
    hosted: dict[str, dict[str, Any]] = {name: {"gym_id": name, "allowed_kwargs": "*"} for name in GYM_ENVS}
    for name in TEST_ENVS + FAULTY_ENVS:
        hosted[name] = {"gym_id": IMPORTABLE_ENV_IDS[name], "allowed_kwargs": "*"}
    return hosted


LANE_PATHS = ("lane", "grpc")
"""The two paths a same-host client's requests can take: straight to the worker, or through gRPC."""

SPAWNED = "spawn"
"""A third way of hosting for the modules that list it in ``HOSTING_PATHS``: workers started by spawn
(the Windows and macOS path) with a warm pool, the lane over loopback TCP."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``env_server`` runs each test on both lane paths, and on spawned workers where the module says so.

    A test module sets ``HOSTING_PATHS = (*LANE_PATHS, SPAWNED)`` to run its tests once more on a
    server whose workers are started by spawn and whose lane is TCP (kept to a few modules: the whole
    suite must stay quick).
    """
    if "env_server" in metafunc.fixturenames:
        paths = getattr(metafunc.module, "HOSTING_PATHS", LANE_PATHS)
        metafunc.parametrize("env_server", paths, indirect=True, scope="session")


@pytest.fixture(scope="session")
def env_server(request: pytest.FixtureRequest) -> Iterator[EnvServer]:
    """One loopback server (worker process per session) hosting every test environment, once per path."""
    if request.param == SPAWNED:
        spawned = {"worker_start": "spawn", "lane_transport": "tcp", "warm_workers": 4}
        with running_server(hosted_environments(), hosting="process", grace=0.5, **spawned) as server:
            yield server
        return
    lane = request.param == "lane"
    with running_server(hosted_environments(), hosting="process", grace=0.5, same_host_lane=lane) as server:
        yield server


@pytest.fixture(params=LANE_PATHS)
def same_host_lane(request: pytest.FixtureRequest) -> bool:
    """``ServerConfig.same_host_lane`` for tests that start their own server: they run on both paths."""
    return bool(request.param == "lane")


@pytest.fixture(scope="session")
def inline_server() -> Iterator[EnvServer]:
    """One loopback server hosting every test environment in-process."""
    with running_server(hosted_environments(), hosting="inline", grace=0.5) as server:
        yield server


def hosting_for(same_host_lane: bool) -> str:
    """The hosting of a test that ran in-process before lanes existed: worker processes on the lane path."""
    return "process" if same_host_lane else "inline"


def local_make(name: str, **kwargs: Any) -> gym.Env[Any, Any]:
    """The local twin of a hosted environment."""
    return gym.make(IMPORTABLE_ENV_IDS.get(name, name), **kwargs)
