"""Host the environment of entrypoint.py for remote clients (the 0.7.x hosting script, updated).

Run:  uv run python examples/start_remote_environment.py -u 0.0.0.0 -p 56765 \
          --server_certificate certs/server.pem --server_private_key certs/server-key.pem \
          --root_certificate certs/ca.pem
Without certificate flags the server only accepts connections from this machine when -u is a
loopback address, and runs without TLS otherwise (trusted networks only).
"""

from __future__ import annotations

import argparse
import logging
import pathlib
from collections.abc import Sequence

from remote_gym import create_remote_environment_server

HERE = pathlib.Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> None:
    """Start the server and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-u", "--url", default="localhost", help="address to bind (0.0.0.0: every interface)")
    parser.add_argument("-p", "--port", type=int, default=56765, help="port to bind")
    parser.add_argument("--use_thread", action="store_true", help="run envs inside the server process")
    parser.add_argument("--server_certificate", help="server.pem (enables TLS)")
    parser.add_argument("--server_private_key", help="server-key.pem")
    parser.add_argument("--root_certificate", help="ca.pem: clients must then present a certificate (mTLS)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    credentials = (args.server_certificate, args.server_private_key, args.root_certificate)
    server = create_remote_environment_server(
        default_args={
            # The operator decides what runs: this file, with these keyword arguments.
            "entrypoint": str(HERE / "entrypoint.py"),
            "entrypoint_kwargs": {"env": "Acrobot-v1", "max_episode_steps": 500},
        },
        # Clients may shorten or lengthen episodes, but not pick another environment.
        allowed_kwargs=["max_episode_steps"],
        url=args.url,
        port=args.port,
        server_credentials_paths=credentials if credentials[0] else None,
        use_thread=args.use_thread,
    )
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=5.0)


if __name__ == "__main__":
    main()
