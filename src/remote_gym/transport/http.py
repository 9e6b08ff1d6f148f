"""Small read-only HTTP endpoints (metrics, a status page) served from a thread, with TLS and tokens.

A threaded WSGI server of the standard library: over HTTPS with the given certificate when there is
TLS, and for holders of a token when there are tokens (``Authorization: Bearer TOKEN``, or a
browser's basic-auth prompt with the token as password). Only GET and HEAD are answered. The server
and the hub both serve their endpoints with it.
"""

from __future__ import annotations

import base64
import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import ServerTLSConfig

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _IPv6Server(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s: " + format, self.client_address[0], *args)


class HttpEndpoint:
    """One WSGI app served on ``host:port`` from a thread, with TLS and tokens."""

    def __init__(
        self,
        app: WSGIApp,
        host: str,
        port: int,
        *,
        tls: ServerTLSConfig | None,
        tokens: Sequence[TokenAuth],
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._on_stop = on_stop
        server_class = _IPv6Server if ":" in host else _ThreadingServer
        self._httpd = make_server(
            host.strip("[]"), port, guard(app, tokens), server_class, handler_class=_QuietHandler
        )
        if tls is not None:
            self._httpd.socket = tls.ssl_context().wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="remote-gym-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Where the endpoint answers."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5.0)
        if self._on_stop is not None:
            self._on_stop()


def reply(start_response: Callable[..., Any], status: str, content_type: str, body: bytes) -> list[bytes]:
    """Answer with ``body``, never cached."""
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
    )
    return [body]


def guard(app: WSGIApp, tokens: Sequence[TokenAuth]) -> WSGIApp:
    """Answer GET and HEAD only, and (with tokens) only for a caller showing one of them."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return reply(start_response, "405 Method Not Allowed", "text/plain", b"read-only\n")
        if tokens and not _authorized(environ.get("HTTP_AUTHORIZATION", ""), tokens):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Basic realm="remote-gym"')],
            )
            return [b"the server's token is needed (Authorization: Bearer TOKEN, or as password)\n"]
        return app(environ, start_response)

    return guarded


def _authorized(header: str, tokens: Sequence[TokenAuth]) -> bool:
    if header.startswith("Basic "):
        try:
            _, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except ValueError:
            return False
        header = f"Bearer {password}"
    ok = False
    for token in tokens:  # every token, so the time taken does not tell which one nearly matched
        ok |= token.matches(header)
    return ok
