"""Copies of a PettingZoo Parallel env on two servers, as one vector env over all agents (SuperSuit's shape).

Run:  uv run python examples/pettingzoo_vector.py
It starts two local servers hosting the Pursuit test env (every agent has the same spaces); on real
hosts, serve your env with `create_remote_environment_server(default_args={"pettingzoo": ...})`
(or `remote-gym serve --pettingzoo ID`) and pass their addresses. With `--sb3`, the vector env is
wrapped as a Stable-Baselines3 VecEnv and trained with PPO (needs `uv sync --extra train`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from remote_gym import create_remote_environment_server
from remote_gym.pettingzoo import RemoteAgentVectorEnv, to_sb3_vec_env

ENV = {"pettingzoo": "remote_gym.testing.agent_envs:uniform_parallel_env"}


def main(argv: Sequence[str] | None = None) -> float:
    """Step the vector env (or train on it with --sb3) and return its agent-steps per second."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=4, help="copies of the env on each server")
    parser.add_argument("--steps", type=int, default=200, help="vector steps to take")
    parser.add_argument("--sb3", action="store_true", help="train Stable-Baselines3 PPO on it instead")
    args = parser.parse_args(argv)

    servers = [create_remote_environment_server(default_args=ENV, url="127.0.0.1", port=0) for _ in range(2)]
    try:
        addresses = [server.address for server in servers]
        # Slot c * A + i is agent i of copy c; copies are numbered server after server.
        envs = RemoteAgentVectorEnv(addresses, copies=args.copies)
        try:
            if args.sb3:
                from stable_baselines3 import PPO

                PPO("MlpPolicy", to_sb3_vec_env(envs), n_steps=64, verbose=1).learn(total_timesteps=2_000)
                return 0.0
            observations, _ = envs.reset(seed=0)
            print(f"{envs.num_envs} agents in {envs.num_copies} copies on {', '.join(addresses)}")
            start = time.perf_counter()
            for _ in range(args.steps):
                # A copy whose agents are all done resets within the step (its final observations in infos).
                observations, rewards, *_ = envs.step(envs.action_space.sample())
            rate = float(envs.num_envs * args.steps / (time.perf_counter() - start))
            print(f"observations {observations.shape}, mean reward {np.mean(rewards):.2f}")
        finally:
            envs.close()
        print(f"{rate:,.0f} agent-steps/s")
        return rate
    finally:
        for server in servers:
            server.stop(grace=1.0)


if __name__ == "__main__":
    main()
