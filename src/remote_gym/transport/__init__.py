"""gRPC plumbing shared by the server and the client: TLS, auth, options, status mapping."""

# Before any module of the package imports grpc: gRPC reads its configuration once, on import.
from remote_gym.transport import grpc_init as _grpc_init  # noqa: F401
