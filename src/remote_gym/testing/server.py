"""running_server(): a loopback server on a free port for tests and demos."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import EnvEntry, make_entry
from remote_gym.server.server import EnvServer
from remote_gym.transport.tls import ServerTLSConfig


@contextlib.contextmanager
def running_server(
    environments: Mapping[str, str | Mapping[str, Any]] | None = None,
    *,
    host: str = "127.0.0.1",
    hosting: str = "auto",
    tls: ServerTLSConfig | None = None,
    grace: float | None = 1.0,
    **config: Any,
) -> Iterator[EnvServer]:
    """Run a server on ``host`` and a free port for the duration of the ``with`` block.

    Args:
        environments: Name -> Gymnasium id, or name -> dict with ``gym_id``/``entrypoint``,
            ``kwargs`` and ``allowed_kwargs``. Default: CartPole-v1.
        host: Loopback address to bind.
        hosting: ``"process"``, ``"inline"``, or ``"auto"`` (process where the platform allows it).
        tls: Server TLS settings, or None.
        grace: Seconds given to open sessions when the block ends.
        **config: Other ServerConfig fields.

    Yields:
        The started server; ``server.address`` is what clients connect to.
    """
    entries: list[EnvEntry] = []
    for name, what in (environments or {"CartPole-v1": "CartPole-v1"}).items():
        if isinstance(what, str):
            entries.append(make_entry(name, gym_id=what))
        else:
            entries.append(make_entry(name, **dict(what)))
    server = EnvServer(
        ServerConfig(environments=tuple(entries), host=host, port=0, hosting=hosting, tls=tls, **config)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop(grace)
