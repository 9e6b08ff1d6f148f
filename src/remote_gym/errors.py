"""Every exception and warning remote-gym raises on purpose.

::

    RemoteGymError                                  base of everything raised on purpose
    ├── ConfigError (+ValueError)                   bad configuration, before any I/O
    ├── DependencyNotInstalledError (+ImportError)  optional extra missing; the message names it
    ├── CodecError
    │   ├── UnsupportedSpaceError (+TypeError)      space type has no wire form
    │   ├── UnsupportedValueError (+TypeError)      value (e.g. an info entry) has no wire form
    │   └── DecodeError (+ValueError)               malformed message, dtype/shape mismatch
    ├── EnvClosedError                              you closed the env, then used it
    ├── TransportError                              no reply could be obtained
    │   ├── ConnectError                            channel never became ready
    │   ├── DeadlineExceededError (+TimeoutError)   a call exceeded its timeout
    │   ├── ConnectionLostError                     stream broke mid-use
    │   ├── ProtocolError                           peer sent something off-spec
    │   │   └── ProtocolVersionError                peer speaks another protocol version
    │   └── ServerLostError                         a cluster's server did not come back in time
    └── ServerError                                 the server refused or failed a request on purpose
        ├── AuthenticationError                     bad/missing token or certificate
        ├── PermissionDeniedError                   request not allowed by the operator
        ├── EnvNotFoundError                        env name not hosted by the server
        ├── SessionExpiredError                     idle-expired or unknown session
        │   └── SessionEvictedError (+ConnectionLostError)  ended while detached, for a new session
        ├── ServerBusyError                         a server limit was reached
        ├── InvalidCallError                        call not valid now (e.g. step before reset)
        │   └── EnvKindError                        a PettingZoo env asked for as a Gymnasium env, or the reverse
        ├── InvalidActionError (+ValueError)        action not in the action space
        │   ├── UnknownAgentError                   an action for an agent the env never has
        │   └── DeadAgentError                      an action for an agent that is no longer alive
        ├── RemoteEnvError                          the env's own code raised
        ├── WorkerCrashedError                      the worker process died
        ├── ServerShutdownError                     the server is shutting down
        │   └── ServerDrainingError                 the server is draining (a rolling upgrade)
        ├── HostNotFoundError                       a hub has no attached host for the session
        └── HostGoneError                           a hub's host serving the session did not come back
    ClusterError (RemoteGymError)                   launching or scaling servers on a cluster failed
    └── ServerStartError                            a server could not start (names node and cause)

    RemoteGymWarning (UserWarning)
    └── InsecureChannelWarning                      plaintext channel to a non-loopback address
"""

from __future__ import annotations

from typing import Any


class RemoteGymError(Exception):
    """Base class of every exception remote-gym raises on purpose.

    Keyword arguments set attributes the class (or a base) declares; any other name is refused.

    Attributes:
        host: ``"host:port"`` of the server the error came from, when a vector env over several
            servers names it.
        env_index: Vector envs: the index, in the whole vector env, of the sub-env that failed.
        env_indices: Vector envs: every sub-env a failure took down (a dead worker's).
    """

    host: str | None = None
    env_index: int | None = None
    env_indices: tuple[int, ...] | None = None

    def __init__(self, message: str = "", **attrs: Any) -> None:
        super().__init__(message)
        self.message = message
        for key, value in attrs.items():
            if key.startswith("_") or not hasattr(type(self), key):
                raise TypeError(f"{type(self).__name__} has no attribute {key!r}")
            setattr(self, key, value)
        self._attrs = attrs

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions with keyword attributes need help to survive pickling (urllib3 does the same).
        return (_rebuild, (type(self), self.message, self._attrs))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[RemoteGymError], message: str, attrs: dict[str, Any]) -> RemoteGymError:
    return cls(message, **attrs)


class ConfigError(RemoteGymError, ValueError):
    """A configuration value is invalid; raised before any I/O."""


class DependencyNotInstalledError(RemoteGymError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class CodecError(RemoteGymError):
    """A value or space could not be encoded or decoded."""


class UnsupportedSpaceError(CodecError, TypeError):
    """The space type has no wire form (for example a custom ``Space`` subclass)."""


class UnsupportedValueError(CodecError, TypeError):
    """A value has no wire form; the message names where it was found and its type."""


class DecodeError(CodecError, ValueError):
    """A message is malformed: unknown dtype, bytes that do not match the shape, too deep, ..."""


class EnvClosedError(RemoteGymError):
    """The environment was used after :meth:`close` was called on it."""


class TransportError(RemoteGymError):
    """No reply could be obtained: the network, the channel or the peer failed."""


class ConnectError(TransportError):
    """The channel never became ready (nothing listening, TLS mismatch, unreachable host)."""


class DeadlineExceededError(TransportError, TimeoutError):
    """A call did not complete within its timeout."""


class ConnectionLostError(TransportError):
    """The session stream broke while in use."""


class ProtocolError(TransportError):
    """The peer sent something that does not follow the remote_gym.v1 protocol."""


class ProtocolVersionError(ProtocolError):
    """The peer speaks a protocol version this package does not."""


class ServerLostError(TransportError):
    """A server of a cluster was lost and no replacement answered in time.

    Attributes:
        server: The server's index in the cluster.
        address: Its last ``"host:port"``.
    """

    server: int | None = None
    address: str | None = None


class ServerError(RemoteGymError):
    """The server refused or failed a request on purpose.

    Attributes:
        code: Name of the gRPC status code (e.g. ``"INVALID_ARGUMENT"``).
        reason: Machine-readable reason (e.g. ``"INVALID_ACTION"``).
    """

    code: str = "UNKNOWN"
    reason: str = "UNKNOWN"


class AuthenticationError(ServerError):
    """The server did not accept the client's token or certificate."""

    code = "UNAUTHENTICATED"
    reason = "UNAUTHENTICATED"


class PermissionDeniedError(ServerError):
    """The operator does not allow this request (e.g. an unlisted keyword argument)."""

    code = "PERMISSION_DENIED"
    reason = "PERMISSION_DENIED"


class EnvNotFoundError(ServerError):
    """The server hosts no environment of that name."""

    code = "NOT_FOUND"
    reason = "ENV_NOT_FOUND"


class SessionExpiredError(ServerError):
    """The session expired on the server or is unknown to it."""

    code = "NOT_FOUND"
    reason = "SESSION"


class SessionEvictedError(SessionExpiredError, ConnectionLostError):
    """The server ended this session while it awaited resumption, to make room for a new one.

    A server at its ``max_sessions`` ends its oldest detached session rather than refuse a new one;
    its client learns it when it comes back. It is also a :class:`ConnectionLostError`: what a
    client that cannot resume its session raises.
    """

    code = "NOT_FOUND"
    reason = "SESSION_EVICTED"


class ServerBusyError(ServerError):
    """A server limit (sessions, envs, message size) was reached."""

    code = "RESOURCE_EXHAUSTED"
    reason = "SERVER_BUSY"


class InvalidCallError(ServerError):
    """The call is not valid in the session's current state."""

    code = "FAILED_PRECONDITION"
    reason = "INVALID_CALL"


class EnvKindError(InvalidCallError):
    """The environment is of another kind than asked for: a PettingZoo env asked for as a Gymnasium
    env, a Gymnasium env asked for as a PettingZoo env, or an AEC env that cannot be served as Parallel."""

    reason = "ENV_KIND"


class InvalidActionError(ServerError, ValueError):
    """The action is not an element of the action space; the env never saw it."""

    code = "INVALID_ARGUMENT"
    reason = "INVALID_ACTION"


class UnknownAgentError(InvalidActionError):
    """A multi-agent action names an agent that is not among the env's possible agents."""

    reason = "UNKNOWN_AGENT"


class DeadAgentError(InvalidActionError):
    """A multi-agent action is for an agent that is not alive (not in ``env.agents``, or an AEC agent
    whose turn comes after it terminated or truncated and whose action must then be None)."""

    reason = "DEAD_AGENT"


class RemoteEnvError(ServerError):
    """The environment's own code raised.

    Attributes:
        remote_type: Qualified name of the exception type raised in the env.
        remote_traceback: The remote traceback, as text.
        sub_env_index: Vector sessions: the index, within the session, of the sub-env that raised
            (``RemoteVectorEnv`` adds ``env_index``, its index in the whole vector env).
    """

    code = "INTERNAL"
    reason = "ENV_ERROR"

    remote_type: str = ""
    remote_traceback: str = ""
    sub_env_index: int | None = None


class WorkerCrashedError(ServerError):
    """The worker process hosting the environment died.

    Attributes:
        exitcode: The worker's exit code; negative when killed by a signal.
    """

    code = "ABORTED"
    reason = "WORKER_CRASHED"

    exitcode: int | None = None


class ServerShutdownError(ServerError):
    """The server is shutting down and closed the session."""

    code = "UNAVAILABLE"
    reason = "SHUTDOWN"


class ServerDrainingError(ServerShutdownError):
    """The server is draining (``serve --drain``): it takes no new session and ended this one when its
    drain period passed. Open the session on another server."""

    reason = "DRAINING"


class HostNotFoundError(ServerError):
    """A hub has no attached host that can serve the session (the message lists what is attached)."""

    code = "NOT_FOUND"
    reason = "HOST_NOT_FOUND"


class HostGoneError(ServerError):
    """The env host serving the session through a hub lost its link and did not come back in time
    (the message names the host)."""

    code = "UNAVAILABLE"
    reason = "HOST_GONE"


SERVER_ERRORS: tuple[type[ServerError], ...] = (
    AuthenticationError,
    PermissionDeniedError,
    EnvNotFoundError,
    SessionExpiredError,
    SessionEvictedError,
    ServerBusyError,
    InvalidCallError,
    EnvKindError,
    InvalidActionError,
    UnknownAgentError,
    DeadAgentError,
    RemoteEnvError,
    WorkerCrashedError,
    ServerShutdownError,
    ServerDrainingError,
    HostNotFoundError,
    HostGoneError,
)
"""The ServerError classes a server sends; each declares its gRPC status code name and its reason."""


class ClusterError(RemoteGymError):
    """Launching, scaling or reaching the servers of a cluster (Ray) failed."""


class ServerStartError(ClusterError):
    """A server could not start on a cluster node, or did not answer health checks in time.

    Attributes:
        node_id: The cluster node, or None before placement.
        cause: Why it could not start.
    """

    node_id: str | None = None
    cause: str | None = None


class RemoteGymWarning(UserWarning):
    """Base class of remote-gym's warnings."""


class InsecureChannelWarning(RemoteGymWarning):
    """A plaintext channel is used to a non-loopback address."""
