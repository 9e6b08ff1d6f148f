"""A trainer of any release, for the release-compatibility test: CartPole in lock-step with a local env.

Run by the interpreter of the release under test (it imports nothing from the tests, and only API that
release 1.0.0 has). It resets, touches ``--ready`` (the test starts cutting the connection then), steps
for ``--seconds`` comparing every result with the local env's, and prints one JSON line: the client's
and the server's releases, the path its requests took, and the steps taken.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import data_equivalence

import remote_gym


def _same(remote: Any, local: Any, what: str) -> None:
    if not data_equivalence(remote, local, exact=True):
        raise SystemExit(f"{what}: remote {remote!r} != local {local!r}")


def main() -> None:
    """Play, check, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--vector", type=int, default=0, help="sub-envs of a RemoteVectorEnv (0: one env)")
    parser.add_argument("--no-lane", action="store_true", help="never use the same-host lane")
    parser.add_argument("--ready", type=pathlib.Path, required=True)
    parser.add_argument("--seconds", type=float, default=1.5)
    args = parser.parse_args()
    config = remote_gym.ClientConfig(same_host_lane=not args.no_lane)
    remote: Any
    if args.vector:
        remote = remote_gym.RemoteVectorEnv("CartPole-v1", args.vector, address=args.address, config=config)
        local: Any = gym.make_vec("CartPole-v1", args.vector, vectorization_mode="sync")
        connection = remote._hosts[0].connection
    else:
        remote = remote_gym.RemoteEnvironment(address=args.address, env="CartPole-v1", config=config)
        local = gym.make("CartPole-v1")
        connection = remote._connection
    rng = np.random.default_rng(0)
    with remote:
        _same(remote.reset(seed=7), local.reset(seed=7), "reset")
        first_path = connection.path
        args.ready.touch()
        steps, end = 0, time.monotonic() + args.seconds
        while time.monotonic() < end or steps < 100:
            action = rng.integers(2, size=args.vector) if args.vector else int(rng.integers(2))
            expected = local.step(action)
            _same(remote.step(action), expected, f"step {steps}")
            steps += 1
            if not args.vector and (expected[2] or expected[3]):
                _same(remote.reset(), local.reset(), f"reset after step {steps}")
        path = connection.path
        server = connection.server_info.server_version
    local.close()
    report = {"client": remote_gym.__version__, "server": server, "first_path": first_path, "path": path}
    print(json.dumps({**report, "steps": steps}))


if __name__ == "__main__":
    main()
