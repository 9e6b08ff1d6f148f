"""Host Gymnasium environments on a gRPC server and use them from another machine as local envs."""

import logging

# First, before anything imports grpc: gRPC reads its configuration once, on import.
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401  # isort: skip
from remote_gym import errors
from remote_gym._version import __version__
from remote_gym.client.config import ClientConfig, Timeouts
from remote_gym.client.env import RemoteEnv, RemoteEnvironment
from remote_gym.client.factory import make, make_vec
from remote_gym.client.info import ServerInfo, server_info
from remote_gym.client.vector_env import RemoteVectorEnv
from remote_gym.codec.custom_spaces import register_space
from remote_gym.errors import RemoteGymError
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer, create_remote_environment_server
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig

__all__ = [
    "ClientConfig",
    "EnvServer",
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

logging.getLogger(__name__).addHandler(logging.NullHandler())
