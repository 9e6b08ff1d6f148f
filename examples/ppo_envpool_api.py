"""CleanRL-style PPO on EnvPool's asynchronous API (send/recv), with the envs on remote-gym servers.

The training loop is EnvPool's: ``recv`` the first ``batch_size`` sub-envs that finished stepping,
act on them, ``send`` the actions back with their ``env_id``. Transitions are kept per sub-env, so a
slow sub-env (or host) never holds up the others. Only the env construction differs from an EnvPool
script: ``remote_gym.client.make_envpool`` takes the servers' addresses.

Needs PyTorch (the train extra):  uv sync --extra train
Run servers first:                uv run remote-gym serve CartPole-v1 --port 56765   (and another on 56766)
Then:                             uv run python examples/ppo_envpool_api.py --address 127.0.0.1:56765 127.0.0.1:56766
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from remote_gym.client import make_envpool


def main(argv: Sequence[str] | None = None) -> float:
    """Train; return the mean return of the last 20 episodes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", nargs="+", default=["127.0.0.1:56765"], help="servers, host:port")
    parser.add_argument("--env", default="CartPole-v1", help="environment name on the servers")
    parser.add_argument("--num-envs", type=int, default=16, help="sub-envs in all")
    parser.add_argument("--batch-size", type=int, default=8, help="sub-envs per recv (EnvPool's batch_size)")
    parser.add_argument("--total-timesteps", type=int, default=100_000)
    parser.add_argument("--rollout", type=int, default=2048, help="transitions per PPO update")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError as exc:
        raise SystemExit("this example needs PyTorch: uv sync --extra train") from exc
    from torch import nn

    torch.manual_seed(args.seed)
    envs = make_envpool(
        args.env,
        num_envs=args.num_envs,
        batch_size=args.batch_size,
        seed=args.seed,
        address=args.address,
        autoreset_mode="SameStep",  # a done step returns the next episode's first observation
    )
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    n_actions = int(envs.single_action_space.n)

    def layer(i: int, o: int, std: float = 2**0.5) -> nn.Linear:
        lin = nn.Linear(i, o)
        nn.init.orthogonal_(lin.weight, std)
        nn.init.constant_(lin.bias, 0.0)
        return lin

    critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
    actor = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, n_actions, 0.01))
    optimizer = torch.optim.Adam([*critic.parameters(), *actor.parameters()], lr=2.5e-4, eps=1e-5)

    def act(obs: Any, action: Any = None) -> tuple[Any, Any, Any, Any]:
        dist = torch.distributions.Categorical(logits=actor(obs))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), critic(obs).squeeze(-1)

    pending: dict[int, tuple[Any, ...]] = {}  # sub-env -> (obs, action, logprob, value) awaiting its reward
    paths: dict[int, list[tuple[Any, ...]]] = {i: [] for i in range(args.num_envs)}
    running = np.zeros(args.num_envs)
    returns: list[float] = []
    steps, start = 0, time.perf_counter()
    envs.async_reset()
    while steps < args.total_timesteps:
        collected = 0
        while collected < args.rollout:
            obs, rewards, terminations, truncations, infos = envs.recv()
            ids = infos["env_id"]
            for k, i in enumerate(ids.tolist()):
                if i in pending:
                    done = bool(terminations[k] or truncations[k])
                    paths[i].append((*pending.pop(i), float(rewards[k]), done))
                    running[i] += rewards[k]
                    if done:
                        returns.append(float(running[i]))
                        running[i] = 0.0
                    collected += 1
            with torch.no_grad():
                obs_t = torch.as_tensor(obs, dtype=torch.float32)
                action, logprob, _, value = act(obs_t)
            for k, i in enumerate(ids.tolist()):
                pending[i] = (obs_t[k], action[k], logprob[k], value[k])
            envs.send(action.numpy(), ids)
        steps += collected
        batch = _advantages(paths, pending)
        for path in paths.values():
            path.clear()
        _update(batch, act, optimizer, [*critic.parameters(), *actor.parameters()])
        recent = statistics.fmean(returns[-20:]) if returns else 0.0
        print(
            f"{steps:>8} steps  {steps / (time.perf_counter() - start):>7.0f} steps/s  mean return {recent:.1f}"
        )
    envs.close()
    return statistics.fmean(returns[-20:]) if returns else 0.0


def _advantages(
    paths: dict[int, list[tuple[Any, ...]]], pending: dict[int, tuple[Any, ...]]
) -> dict[str, Any]:
    """GAE (gamma 0.99, lambda 0.95) along each sub-env's own path, bootstrapped by its pending value."""
    import torch

    rows: list[tuple[Any, ...]] = []
    for i, path in paths.items():
        next_value = float(pending[i][3]) if i in pending else 0.0
        gae = 0.0
        for obs, action, logprob, value, reward, done in reversed(path):
            nonterminal = 0.0 if done else 1.0
            delta = reward + 0.99 * next_value * nonterminal - float(value)
            gae = delta + 0.99 * 0.95 * nonterminal * gae
            rows.append((obs, action, logprob, gae, gae + float(value)))
            next_value = float(value)
    obs, actions, logprobs, advantages, targets = zip(*rows, strict=True)
    return {
        "obs": torch.stack(obs),
        "actions": torch.stack(actions),
        "logprobs": torch.stack(logprobs),
        "advantages": torch.tensor(advantages, dtype=torch.float32),
        "returns": torch.tensor(targets, dtype=torch.float32),
    }


def _update(batch: dict[str, Any], act: Any, optimizer: Any, params: list[Any]) -> None:
    """4 epochs of clipped PPO over minibatches of 256."""
    import torch

    n = len(batch["obs"])
    for _ in range(4):
        for idx in torch.randperm(n).split(256):
            _, logprob, entropy, value = act(batch["obs"][idx], batch["actions"][idx])
            ratio = (logprob - batch["logprobs"][idx]).exp()
            adv = batch["advantages"][idx]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(0.8, 1.2)).mean()
            value_loss = 0.5 * ((value - batch["returns"][idx]) ** 2).mean()
            loss = policy_loss + 0.5 * value_loss - 0.01 * entropy.mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 0.5)
            optimizer.step()


if __name__ == "__main__":
    main()
