"""One vector of environments spread over two servers (here both on this machine, on free ports).

Run:  uv run python examples/vector_two_servers.py
On real hosts, start `remote-gym serve CartPole-v1 --host 0.0.0.0` on each and pass their addresses.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from remote_gym import RemoteVectorEnv, create_remote_environment_server


def main(argv: Sequence[str] | None = None) -> float:
    """Step the vector and return its env-steps per second."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--num-envs", type=int, default=8, help="sub-environments in total")
    parser.add_argument("--steps", type=int, default=500, help="vector steps to take")
    args = parser.parse_args(argv)

    servers = [
        create_remote_environment_server(default_args={"env_id": "CartPole-v1"}, url="127.0.0.1", port=0)
        for _ in range(2)
    ]
    try:
        addresses = [server.address for server in servers]
        # Sub-envs are split evenly over the hosts and numbered host after host.
        envs = RemoteVectorEnv("CartPole-v1", args.num_envs, address=addresses)
        try:
            observations, _ = envs.reset(seed=0)
            print(f"{envs.num_envs} envs on {', '.join(addresses)}; observations {observations.shape}")
            start = time.perf_counter()
            for _ in range(args.steps):
                # Finished sub-envs reset themselves on the next step (Gymnasium's NEXT_STEP autoreset).
                observations, *_ = envs.step(envs.action_space.sample())
            rate = float(args.num_envs * args.steps / (time.perf_counter() - start))
        finally:
            envs.close()  # ends the sessions on both servers
        print(f"{rate:,.0f} env-steps/s")
        return rate
    finally:
        for server in servers:
            server.stop(grace=1.0)


if __name__ == "__main__":
    main()
