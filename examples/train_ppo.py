"""Train stable-baselines3 PPO on an environment hosted by a remote-gym server.

Needs the train extra:  pip install 'remote-gym[train]'   (or: uv sync --extra train)
Run a server first:     uv run remote-gym serve CartPole-v1
Then:                   uv run python examples/train_ppo.py --address 127.0.0.1:56765
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from remote_gym import RemoteEnvironment


def main(argv: Sequence[str] | None = None) -> float:
    """Train, evaluate, and return the mean evaluation return."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", default="127.0.0.1:56765", help="server host:port")
    parser.add_argument("--env", default=None, help="environment name on the server (default: its default)")
    parser.add_argument("--timesteps", type=int, default=50_000, help="training timesteps")
    parser.add_argument("--ca", help="ca.pem, for a TLS server")
    args = parser.parse_args(argv)
    try:
        from stable_baselines3 import PPO
    except ImportError as exc:
        raise SystemExit("this example needs stable-baselines3: pip install 'remote-gym[train]'") from exc

    credentials = (args.ca,) if args.ca else None
    host, port = args.address.rsplit(":", 1)
    # The remote environment stands in for gym.make(...): PPO cannot tell the difference.
    with RemoteEnvironment(
        url=host, port=int(port), client_credentials_paths=credentials, env=args.env
    ) as env:
        model = PPO("MlpPolicy", env, verbose=1, seed=0)
        model.learn(total_timesteps=args.timesteps)

        returns = []
        for episode in range(10):
            observation, _ = env.reset(seed=1000 + episode)
            episode_return, done = 0.0, False
            while not done:
                action, _ = model.predict(observation, deterministic=True)
                observation, reward, terminated, truncated, _ = env.step(action)
                episode_return += float(reward)
                done = terminated or truncated
            returns.append(episode_return)
    mean = statistics.fmean(returns)
    print(f"evaluation over 10 episodes: mean return {mean:.1f}")
    return mean


if __name__ == "__main__":
    main()
