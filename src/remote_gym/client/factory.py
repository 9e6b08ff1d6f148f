"""make(): the gymnasium.make-shaped way to open a remote environment."""

from __future__ import annotations

from typing import Any

from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.env import RemoteEnvironment
from remote_gym.transport.tls import TLSConfig


def make(
    env: str | None = None,
    *,
    address: str,
    render_mode: str | None = None,
    tls: TLSConfig | None = None,
    timeouts: Timeouts | None = None,
    config: ClientConfig | None = None,
    **kwargs: Any,
) -> RemoteEnvironment:
    """Open a session for ``env`` on the server at ``address`` (``"host:port"``).

    Extra keyword arguments go to the environment, as with ``gymnasium.make``; the server accepts
    only those its operator allowed.

    Example:
        >>> with make("CartPole-v1", address="127.0.0.1:56765") as env:  # doctest: +SKIP
        ...     obs, info = env.reset(seed=0)
    """
    return RemoteEnvironment(
        address=address,
        env=env,
        kwargs=kwargs,
        render_mode=render_mode,
        tls=tls,
        timeouts=timeouts,
        config=config,
    )
