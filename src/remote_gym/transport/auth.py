"""Bearer-token authentication: the client's secret and the server's constant-time check."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc

from remote_gym.errors import ConfigError

logger = logging.getLogger(__name__)

AUTH_METADATA_KEY = "authorization"
# Methods reachable without a token: health checks, so load balancers and probes need no secret.
PUBLIC_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})


class TokenAuth:
    """A bearer token. Its value never appears in ``repr``/``str`` or logs.

    Example:
        >>> TokenAuth("s3cret")
        TokenAuth(***)
    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        if not token or any(c.isspace() for c in token):
            raise ConfigError("a token must be a non-empty string without whitespace")
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and hmac.compare_digest(self._token, other._token)

    def __hash__(self) -> int:
        return hash(TokenAuth)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TokenAuth, (self._token,))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Call metadata carrying the token."""
        return ((AUTH_METADATA_KEY, f"Bearer {self._token}"),)

    def matches(self, header: str | bytes | None) -> bool:
        """Constant-time check of an ``authorization`` header value."""
        if header is None:
            return False
        if isinstance(header, bytes):
            header = header.decode("utf-8", "replace")
        return hmac.compare_digest(header.encode(), f"Bearer {self._token}".encode())


def _header(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | bytes | None:
    for key, value in metadata or ():
        if key == AUTH_METADATA_KEY:
            return value
    return None


class TokenAuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Refuses every call (but health checks) whose bearer token is not one of the server's."""

    def __init__(
        self,
        tokens: Sequence[TokenAuth],
        *,
        reason_key: str,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        self._tokens = tuple(tokens)
        self._reason_key = reason_key
        self._on_refused = on_refused
        """Told (peer, why) of each refused call, in place of the log line."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Pass authorised calls on; answer the rest with UNAUTHENTICATED."""
        method = handler_call_details.method
        if method in PUBLIC_METHODS:
            return await continuation(handler_call_details)
        header = _header(handler_call_details.invocation_metadata)
        # Check every token so the time taken does not tell which one nearly matched.
        ok = False
        for token in self._tokens:
            ok |= token.matches(header)
        handler = await continuation(handler_call_details)
        if ok or handler is None:
            return handler
        detail = "missing bearer token" if header is None else "invalid bearer token"
        return self._refusal(handler, detail)

    def _refusal(self, handler: grpc.RpcMethodHandler, detail: str) -> grpc.RpcMethodHandler:
        reason_key = self._reason_key
        on_refused = self._on_refused

        async def refuse(request: Any, context: grpc.aio.ServicerContext) -> None:
            if on_refused is not None:
                on_refused(context.peer(), detail)
            else:
                logger.info("refused a call from %s: %s", context.peer(), detail)
            context.set_trailing_metadata(((reason_key, "UNAUTHENTICATED"),))
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, f"{detail}: pass token= with the server's token"
            )

        # Same call shape as the real method, so the client sees a clean status, never a protocol error.
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(refuse)
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(refuse)
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(refuse)
        return grpc.unary_unary_rpc_method_handler(refuse)
