"""The training side: RemoteEnvironment, RemoteVectorEnv, their configuration, and server queries.

The public names below are imported on first use (PEP 562): importing one of this package's modules
does not load all the others.
"""

import typing as _typing

from remote_gym._lazy import lazy_names as _lazy_names

# Before the client's modules import grpc: gRPC reads its configuration once, on import.
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401

if _typing.TYPE_CHECKING:
    from remote_gym.client.config import ClientConfig, Timeouts
    from remote_gym.client.env import RemoteEnv, RemoteEnvironment
    from remote_gym.client.envpool_api import EnvPoolEnv, make_envpool
    from remote_gym.client.factory import make, make_vec
    from remote_gym.client.info import HostedEnvInfo, ServerInfo, server_info
    from remote_gym.client.stats import StatsClient
    from remote_gym.client.vector_args import EnvGroup
    from remote_gym.client.vector_env import RemoteVectorEnv
    from remote_gym.transport.auth import TokenAuth
    from remote_gym.transport.tls import TLSConfig

_LAZY = {
    "ClientConfig": "remote_gym.client.config",
    "Timeouts": "remote_gym.client.config",
    "RemoteEnv": "remote_gym.client.env",
    "RemoteEnvironment": "remote_gym.client.env",
    "EnvPoolEnv": "remote_gym.client.envpool_api",
    "make_envpool": "remote_gym.client.envpool_api",
    "make": "remote_gym.client.factory",
    "make_vec": "remote_gym.client.factory",
    "HostedEnvInfo": "remote_gym.client.info",
    "ServerInfo": "remote_gym.client.info",
    "server_info": "remote_gym.client.info",
    "StatsClient": "remote_gym.client.stats",
    "EnvGroup": "remote_gym.client.vector_args",
    "RemoteVectorEnv": "remote_gym.client.vector_env",
    "TokenAuth": "remote_gym.transport.auth",
    "TLSConfig": "remote_gym.transport.tls",
}

__all__ = [
    "ClientConfig",
    "EnvGroup",
    "EnvPoolEnv",
    "HostedEnvInfo",
    "RemoteEnv",
    "RemoteEnvironment",
    "RemoteVectorEnv",
    "ServerInfo",
    "StatsClient",
    "TLSConfig",
    "Timeouts",
    "TokenAuth",
    "make",
    "make_envpool",
    "make_vec",
    "server_info",
]

__getattr__, __dir__ = _lazy_names(__name__, _LAZY)
