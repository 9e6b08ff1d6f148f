"""RequestHandler: dispatch one session's requests to methods, turning every failure into an Error reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym

from remote_gym.codec.errors import error_to_proto
from remote_gym.errors import DecodeError, InvalidCallError, PermissionDeniedError, RemoteGymError
from remote_gym.protocol.v1 import remote_gym_pb2 as pb

logger = logging.getLogger(__name__)

# The first parameter is the handler subclass itself (Any: Callable parameters are contravariant).
Method = Callable[[Any, pb.Request], pb.Response]


def check_public_name(name: str, what: str) -> None:
    """Refuse empty and private (``_``-prefixed) attribute names coming from a client."""
    if not name or name.startswith("_"):
        raise PermissionDeniedError(f"{what} {name!r} remotely is not allowed")


class RequestHandler:
    """Base of the single-env and vector handlers: :meth:`handle` never raises.

    Subclasses fill ``METHODS`` (request kind -> method), implement :meth:`close_envs`, and may map
    their own exception types to errors in :meth:`translate`.
    """

    METHODS: ClassVar[dict[str, Method]] = {}
    session_id: str = ""

    def __init__(self) -> None:
        self._closed = False

    def handle(self, request: pb.Request) -> pb.Response:
        """Execute one request and return its response (an ``Error`` response on failure)."""
        kind = request.WhichOneof("kind")
        try:
            method = self.METHODS.get(kind or "")
            if method is None:
                raise InvalidCallError(f"request {kind!r} is not valid during a session")
            return method(self, request)
        except gym.error.ResetNeeded as exc:
            return pb.Response(error=error_to_proto(InvalidCallError(str(exc))))
        except DecodeError as exc:  # the client sent something malformed: its fault, not the env's
            return pb.Response(error=error_to_proto(InvalidCallError(f"malformed {kind} request: {exc}")))
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            error = self.translate(exc)
            if error is not None:
                return pb.Response(error=error)
            if not isinstance(exc, RemoteGymError):
                logger.info("session %s: env raised %s: %s", self.session_id, type(exc).__name__, exc)
            return pb.Response(error=error_to_proto(exc))

    def describe(self) -> pb.Response:
        """The ``MakeResponse`` describing the session's env(s)."""
        raise NotImplementedError

    def env_restarts(self) -> int:
        """Sub-envs recreated after they raised (vector sessions in restart mode); 0 here."""
        return 0

    deferred: bool = False
    """Whether work waits for :meth:`run_deferred` (a vector session's, see ``async_steps``)."""

    def run_deferred(self) -> None:
        """Do the work left until the last reply was out; nothing here."""

    def translate(self, exc: BaseException) -> pb.Error | None:
        """A subclass's own error for ``exc``, or None for the default mapping."""
        return None

    def close_request(self, request: pb.Request) -> pb.Response:
        """Answer CloseRequest: close the env(s)."""
        self.close()
        return pb.Response(close=pb.CloseResponse())

    def close(self) -> None:
        """Close the env(s) once."""
        if not self._closed:
            self._closed = True
            self.close_envs()

    def close_envs(self) -> None:
        """Close the env(s); called once."""
        raise NotImplementedError
