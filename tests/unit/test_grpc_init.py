"""remote_gym chooses gRPC's iomgr endpoints on import, without leaving traces in the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_PROBE = """
import json, os, sys
{before}
import remote_gym
from remote_gym.transport import grpc_init
print(json.dumps({{"chosen": grpc_init.IOMGR_CHOSEN, "env": os.environ.get("GRPC_EXPERIMENTS")}}))
"""


def _probe(before: str = "", **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"}
    environ.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(before=before)],
        capture_output=True,
        text=True,
        env=environ,
        check=True,
        timeout=60,
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="chosen on Linux only")
def test_chosen_on_import_and_the_environment_is_restored() -> None:
    assert _probe() == {"chosen": True, "env": None}


def test_a_users_setting_is_kept() -> None:
    assert _probe(GRPC_EXPERIMENTS="") == {"chosen": False, "env": ""}
    assert _probe(GRPC_EXPERIMENTS="-event_engine_client") == {"chosen": False, "env": "-event_engine_client"}


def test_nothing_is_chosen_after_grpc_was_imported() -> None:
    assert _probe(before="import grpc") == {"chosen": False, "env": None}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.85.3", True),
        ("1.80.0", True),
        ("1.89.0rc1", True),
        ("1.79.2", False),
        ("1.90.0", False),
        ("2.0.0", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_only_grpcio_releases_known_to_have_the_experiments(version: str, expected: bool) -> None:
    from remote_gym.transport.grpc_init import applies_to

    assert applies_to(version) is expected
