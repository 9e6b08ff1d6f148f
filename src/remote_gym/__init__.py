"""Host Gymnasium environments on a gRPC server and use them from another machine as local envs.

The public names below are imported on first use (PEP 562), so that a process which needs only part
of the package (an environment's worker process imports just ``remote_gym.server.handlers``) does
not load gRPC, TLS and the client with it.
"""

import logging as _logging
import typing as _typing

from remote_gym import errors
from remote_gym._lazy import lazy_names as _lazy_names
from remote_gym._version import __version__
from remote_gym.errors import RemoteGymError

if _typing.TYPE_CHECKING:
    from remote_gym.client.config import ClientConfig, Timeouts
    from remote_gym.client.env import RemoteEnv, RemoteEnvironment
    from remote_gym.client.factory import make, make_vec
    from remote_gym.client.info import HostedEnvInfo, ServerInfo, server_info
    from remote_gym.client.vector_args import EnvGroup
    from remote_gym.client.vector_env import RemoteVectorEnv
    from remote_gym.codec.custom_spaces import register_space
    from remote_gym.server.config import ServerConfig
    from remote_gym.server.legacy import create_remote_environment_server
    from remote_gym.server.registry import ANY_KWARGS, EnvEntry, make_entry
    from remote_gym.server.server import EnvServer
    from remote_gym.transport.auth import TokenAuth
    from remote_gym.transport.tls import ServerTLSConfig, TLSConfig

_LAZY = {
    "ClientConfig": "remote_gym.client.config",
    "Timeouts": "remote_gym.client.config",
    "RemoteEnv": "remote_gym.client.env",
    "RemoteEnvironment": "remote_gym.client.env",
    "make": "remote_gym.client.factory",
    "make_vec": "remote_gym.client.factory",
    "HostedEnvInfo": "remote_gym.client.info",
    "ServerInfo": "remote_gym.client.info",
    "server_info": "remote_gym.client.info",
    "EnvGroup": "remote_gym.client.vector_args",
    "RemoteVectorEnv": "remote_gym.client.vector_env",
    "register_space": "remote_gym.codec.custom_spaces",
    "ServerConfig": "remote_gym.server.config",
    "ANY_KWARGS": "remote_gym.server.registry",
    "EnvEntry": "remote_gym.server.registry",
    "make_entry": "remote_gym.server.registry",
    "EnvServer": "remote_gym.server.server",
    "create_remote_environment_server": "remote_gym.server.legacy",
    "TokenAuth": "remote_gym.transport.auth",
    "ServerTLSConfig": "remote_gym.transport.tls",
    "TLSConfig": "remote_gym.transport.tls",
}

__all__ = [
    "ANY_KWARGS",
    "ClientConfig",
    "EnvEntry",
    "EnvGroup",
    "EnvServer",
    "HostedEnvInfo",
    "RemoteEnv",
    "RemoteEnvironment",
    "RemoteGymError",
    "RemoteVectorEnv",
    "ServerConfig",
    "ServerInfo",
    "ServerTLSConfig",
    "TLSConfig",
    "Timeouts",
    "TokenAuth",
    "__version__",
    "create_remote_environment_server",
    "errors",
    "make",
    "make_entry",
    "make_vec",
    "register_space",
    "server_info",
]


__getattr__, __dir__ = _lazy_names(__name__, _LAZY)

_logging.getLogger(__name__).addHandler(_logging.NullHandler())
