"""Where a lane worker listens for its session's client, and what it checks (carried in the worker's start message)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TCP_PREFIX = "tcp:"
"""How a lane address over TCP starts (``MakeResponse.lane_path``): loopback, or a network lane."""
TLS_PREFIX = "tls:"
"""How the address of a network lane over TLS starts."""
TCP_HOST = "127.0.0.1"
HUB_PATH = "hub:"
"""The path of a lane the worker opens to a hub (``LaneSpec.dial``): nothing to announce."""


@dataclass(frozen=True)
class LaneSpec:
    """Where a worker listens for its session's client, and what it checks."""

    path: str
    """Socket path, inside the server's 0700 lane directory; or ``tcp:127.0.0.1:0``: a loopback TCP
    port of the worker's choosing (where there are no Unix sockets, or forced by the server)."""
    secret: str
    """The session's one-time secret (hex)."""
    max_message_bytes: int
    """Largest request accepted on the lane (as gRPC limits it on the other path; replies: SessionRules)."""
    spin_us: float = 0.0
    """While the client's next request usually comes within this, poll the lane for it instead of
    sleeping (``ServerConfig.spin_us``; never with one usable CPU)."""
    network: dict[str, Any] | None = None
    """A network lane (the client is on another host): ``bind`` (address), ``ports`` (``[low, high]``,
    ``[0, 0]``: any) and ``tls`` (``{"cert", "key", "client_ca"}`` paths, or None for plaintext);
    ``path`` is then ``tcp:`` or ``tls:`` and the announced address, and the worker adds its port."""
    dial: dict[str, Any] | None = None
    """A lane the worker opens itself, to the hub that routes its session (the host dials out and
    listens nowhere): ``host``, ``port`` (the hub's frames port), ``hello`` (what to present) and
    ``tls`` (``{"ca", "cert", "key", "server_name"}``, or None for plaintext); ``path`` is then
    :data:`HUB_PATH` and the secret unused."""

    def to_json(self) -> dict[str, Any]:
        """Plain-data form, carried in the worker's start message."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaneSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**data)
