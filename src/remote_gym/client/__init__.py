"""The training side: RemoteEnvironment and its configuration."""

# Before the client's modules import grpc: gRPC reads its configuration once, on import.
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401
