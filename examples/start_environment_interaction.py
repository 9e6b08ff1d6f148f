"""Connect to the server of start_remote_environment.py and play episodes with a random agent.

Run:  uv run python examples/start_environment_interaction.py -u SERVER_IP -p 56765 \
          --root_certificate certs/ca.pem \
          --client_certificate certs/client.pem --client_private_key certs/client-key.pem
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from remote_gym import RemoteEnvironment


def main(argv: Sequence[str] | None = None) -> list[float]:
    """Play the episodes and return their returns."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-u", "--url", default="localhost", help="server host name or IP address")
    parser.add_argument("-p", "--port", type=int, default=56765, help="server port")
    parser.add_argument("--root_certificate", help="ca.pem (TLS)")
    parser.add_argument("--client_certificate", help="client.pem (mutual TLS)")
    parser.add_argument("--client_private_key", help="client-key.pem (mutual TLS)")
    parser.add_argument(
        "--render_mode", choices=("human", "rgb_array"), help="render frames (human: a window)"
    )
    parser.add_argument("--episodes", type=int, default=10)
    args = parser.parse_args(argv)

    credentials = (args.root_certificate, args.client_certificate, args.client_private_key)
    environment = RemoteEnvironment(
        url=args.url,
        port=args.port,
        client_credentials_paths=credentials if args.root_certificate else None,
        render_mode=args.render_mode,
        # Keyword arguments for the server's create_environment(), where its operator allows them.
        remote_args={"entrypoint_kwargs": {"max_episode_steps": 200}},
    )
    print("observation space:", environment.observation_space)
    print("action space:     ", environment.action_space)

    returns = []
    with environment:  # closing ends the session and frees the environment on the server
        for episode in range(args.episodes):
            environment.reset(seed=episode)
            episode_return, done = 0.0, False
            while not done:
                action = environment.action_space.sample()
                _, reward, terminated, truncated, _ = environment.step(action)
                episode_return += float(reward)
                done = terminated or truncated
            returns.append(episode_return)
            print(f"episode {episode}: return {episode_return:.1f}")
    print(f"mean return {statistics.fmean(returns):.2f} +/- {statistics.pstdev(returns):.2f}")
    return returns


if __name__ == "__main__":
    main()
