"""The hosting side: EnvServer, its configuration, and the allow-list of environments it hosts.

The public names below are imported on first use (PEP 562): an environment's worker process imports
this package (for ``remote_gym.server.handlers``) and must not load gRPC, TLS or the server with it.
"""

import typing as _typing

from remote_gym._lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from remote_gym.server.config import ServerConfig
    from remote_gym.server.legacy import create_remote_environment_server
    from remote_gym.server.network_lane import NetworkLaneConfig
    from remote_gym.server.registry import ANY_KWARGS, EnvEntry, make_entry
    from remote_gym.server.server import EnvServer
    from remote_gym.transport.auth import TokenAuth
    from remote_gym.transport.certs import generate_dev_certs
    from remote_gym.transport.tls import ServerTLSConfig

_LAZY = {
    "ServerConfig": "remote_gym.server.config",
    "NetworkLaneConfig": "remote_gym.server.network_lane",
    "ANY_KWARGS": "remote_gym.server.registry",
    "EnvEntry": "remote_gym.server.registry",
    "make_entry": "remote_gym.server.registry",
    "EnvServer": "remote_gym.server.server",
    "create_remote_environment_server": "remote_gym.server.legacy",
    "TokenAuth": "remote_gym.transport.auth",
    "generate_dev_certs": "remote_gym.transport.certs",
    "ServerTLSConfig": "remote_gym.transport.tls",
}

__all__ = [
    "ANY_KWARGS",
    "EnvEntry",
    "EnvServer",
    "NetworkLaneConfig",
    "ServerConfig",
    "ServerTLSConfig",
    "TokenAuth",
    "create_remote_environment_server",
    "generate_dev_certs",
    "make_entry",
]

__getattr__, __dir__ = _lazy_names(__name__, _LAZY)
