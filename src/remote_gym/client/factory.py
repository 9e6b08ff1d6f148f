"""make() and make_vec(): the gymnasium.make-shaped ways to open remote environments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gymnasium.vector import AutoresetMode

from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.env import RemoteEnvironment
from remote_gym.client.vector_args import env_id
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.errors import ConfigError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import TLSConfig


def make(
    id: str | None = None,
    *,
    address: str,
    render_mode: str | None = None,
    tls: TLSConfig | None = None,
    timeouts: Timeouts | None = None,
    config: ClientConfig | None = None,
    token: str | TokenAuth | None = None,
    env: str | None = None,
    host: str | None = None,
    **kwargs: Any,
) -> RemoteEnvironment:
    """Open a session for environment ``id`` on the server at ``address`` (``"host:port"``).

    ``id`` names one of the environments the server hosts (None: its default), as ``gymnasium.make``'s
    ``id`` does; ``env=`` is its former name, still accepted. Extra keyword arguments go to the
    environment, as with ``gymnasium.make``; the server accepts only those its operator allowed.
    Through a hub, ``host=`` names the attached host that must serve the session.

    Raises:
        ConfigError: ``id`` and ``env`` name different environments.

    Example:
        >>> with make("CartPole-v1", address="127.0.0.1:56765") as env:  # doctest: +SKIP
        ...     obs, info = env.reset(seed=0)
    """
    return RemoteEnvironment(
        address=address,
        env=env_id(id, env),
        kwargs=kwargs,
        render_mode=render_mode,
        tls=tls,
        timeouts=timeouts,
        config=config,
        token=token,
        host=host,
    )


def make_vec(
    id: str | None = None,
    num_envs: int | Sequence[int] = 1,
    *,
    address: str | Sequence[str],
    vector_kwargs: Mapping[str, Any] | None = None,
    autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    on_env_failure: str = "raise",
    render_mode: str | None = None,
    tls: TLSConfig | Sequence[TLSConfig | None] | None = None,
    timeouts: Timeouts | None = None,
    config: ClientConfig | None = None,
    token: str | TokenAuth | Sequence[str | TokenAuth | None] | None = None,
    vectorization_mode: str | None = None,
    env: str | None = None,
    **kwargs: Any,
) -> RemoteVectorEnv:
    """Open ``num_envs`` sub-envs of environment ``id`` on the server(s) at ``address`` as one vector env.

    Mirrors ``gymnasium.make_vec``: extra keyword arguments go to every sub-env (the servers accept
    only those their operators allowed), and ``vector_kwargs`` may carry ``autoreset_mode``.
    ``vectorization_mode`` is picked as ``gymnasium.make_vec`` picks it: when None (the default), the
    servers use the env's own vectorised implementation where it has one, else ``"sync"``; or give
    ``"sync"`` or ``"vector_entry_point"`` (see :class:`RemoteVectorEnv`). There is no ``wrappers``
    (wrap the returned vector env with Gymnasium's vector wrappers instead).

    Raises:
        ConfigError: ``vector_kwargs`` has a key other than ``autoreset_mode``, or ``id`` and
            ``env`` (its former name) name different environments.

    Example:
        >>> envs = make_vec("CartPole-v1", 64, address=["a:56765", "b:56765"])  # doctest: +SKIP
        >>> obs, infos = envs.reset(seed=0)  # doctest: +SKIP
    """
    vector_kwargs = dict(vector_kwargs or {})
    autoreset_mode = vector_kwargs.pop("autoreset_mode", autoreset_mode)
    if vector_kwargs:
        raise ConfigError(
            f"make_vec supports only autoreset_mode in vector_kwargs, got {sorted(vector_kwargs)}"
        )
    return RemoteVectorEnv(
        env_id(id, env),
        num_envs,
        address=address,
        autoreset_mode=autoreset_mode,
        on_env_failure=on_env_failure,
        render_mode=render_mode,
        kwargs=kwargs,
        tls=tls,
        timeouts=timeouts,
        config=config,
        token=token,
        vectorization_mode="auto" if vectorization_mode is None else vectorization_mode,
    )
