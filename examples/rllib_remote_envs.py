"""RLlib PPO whose env runners step environments on remote-gym servers that Ray launched.

EnvCluster starts the servers on the Ray cluster; each RLlib env runner makes its CartPole envs as
RemoteEnvironment sessions, spread round-robin over the servers. The training step path is then
RLlib -> env runner -> gRPC stream -> server -> worker process; Ray is not on it.

Needs RLlib and PyTorch (not installed by any of this project's extras or CI):
    uv run --with 'ray[rllib]' --with torch python examples/rllib_remote_envs.py
On a real Ray cluster: --ray-address auto (every node needs remote-gym and the env's packages).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import ray

from remote_gym import RemoteEnvironment
from remote_gym.ray import EnvCluster

ENV_NAME = "remote-cartpole"
_made = itertools.count()
"""Envs made by this env runner process so far: the round-robin position of the next one."""


def make_remote_env(config: Any) -> gym.Env[Any, Any]:
    """RLlib's env creator: a RemoteEnvironment on one of ``config["addresses"]``, round-robin.

    RLlib calls it in every env runner process, once per env of the runner, with the runner's
    ``worker_index`` in ``config`` (an ``EnvContext``).
    """
    addresses: list[str] = config["addresses"]
    position = getattr(config, "worker_index", 0) * 1_000 + next(_made)
    return RemoteEnvironment(address=addresses[position % len(addresses)], env=config["env"])


def main(argv: Sequence[str] | None = None) -> list[float]:
    """Train PPO for a few iterations; return the mean episode return after each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ray-address", default=None, help="Ray cluster to join (default: a local one)")
    parser.add_argument("--servers", type=int, default=2, help="env servers to launch")
    parser.add_argument("--env-runners", type=int, default=2, help="RLlib env runner processes")
    parser.add_argument("--envs-per-runner", type=int, default=4, help="remote envs per env runner")
    parser.add_argument("--iterations", type=int, default=5, help="PPO training iterations")
    args = parser.parse_args(argv)

    try:
        from ray.rllib.algorithms.ppo import PPOConfig
        from ray.tune.registry import register_env
    except ImportError as exc:
        raise SystemExit(f"this example needs RLlib and PyTorch: {exc}") from exc

    # A local Ray gets a (logical) CPU for each server and env runner, so none of them waits for one.
    cpus = None if args.ray_address else args.servers + args.env_runners + 1
    ray.init(address=args.ray_address, num_cpus=cpus, log_to_driver=False)  # the env creator travels by value
    try:
        with EnvCluster.launch("CartPole-v1", num_servers=args.servers) as cluster:
            print(f"{args.servers} servers: {', '.join(cluster.addresses)}")
            register_env(ENV_NAME, make_remote_env)
            config = (
                PPOConfig()
                .environment(ENV_NAME, env_config={"addresses": cluster.addresses, "env": "CartPole-v1"})
                .env_runners(num_env_runners=args.env_runners, num_envs_per_env_runner=args.envs_per_runner)
                .training(train_batch_size_per_learner=2000, minibatch_size=250, num_epochs=5, lr=3e-4)
            )
            algo = config.build_algo()
            try:
                means = []
                for i in range(args.iterations):
                    result = algo.train()
                    mean = float(result["env_runners"]["episode_return_mean"])
                    means.append(mean)
                    print(f"iteration {i + 1}: mean episode return {mean:.1f}")
            finally:
                algo.stop()
    finally:
        ray.shutdown()
    return means


if __name__ == "__main__":
    main()
