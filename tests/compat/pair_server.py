"""A server of any release, for the release-compatibility test: CartPole in worker processes, lane offered.

Run by the interpreter of the release under test. Prints its address on one line, then serves until
its standard input closes.
"""

from __future__ import annotations

import sys

from remote_gym.testing.server import running_server


def main() -> None:
    """Serve until stdin closes."""
    with running_server({"CartPole-v1": "CartPole-v1"}, hosting="process", grace=0.5) as server:
        print(server.address, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
