"""Hub configuration: where trainers and dialing hosts reach it, and whose tokens it accepts."""

from __future__ import annotations

from dataclasses import dataclass

from remote_gym._constants import DEFAULT_HUB_PORT, HUB_HOST_GRACE_S, MAX_MESSAGE_BYTES
from remote_gym.errors import ConfigError
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import ServerTLSConfig, is_loopback


@dataclass(frozen=True, kw_only=True)
class HubConfig:
    """Everything a :class:`~remote_gym.hub.hub.Hub` needs.

    Example:
        >>> HubConfig(port=0, host_tokens=(TokenAuth("hosts-secret"),)).host
        '127.0.0.1'
    """

    host: str = "127.0.0.1"
    """Address to bind; ``0.0.0.0`` or ``::`` for every interface. Trainers and hosts share the port."""
    port: int = DEFAULT_HUB_PORT
    """Port to bind; 0 picks a free one (see ``Hub.port``)."""
    tls: ServerTLSConfig | None = None
    """TLS (mutual when it has a client CA) for trainers and hosts alike; None: local credentials on
    loopback, else plaintext. The hub terminates TLS: it sees the sessions' observations and actions."""
    host_tokens: tuple[TokenAuth, ...] = ()
    """Tokens a dialing host must present (``serve --dial-token``); required: a hub never lets an
    unknown host serve its trainers."""
    tokens: tuple[TokenAuth, ...] = ()
    """Tokens trainers must present (as a server's ``tokens``); empty: none needed."""
    host_grace_s: float = HUB_HOST_GRACE_S
    """Seconds a host whose link broke keeps its name and sessions before they fail with HostGoneError."""
    max_message_bytes: int = MAX_MESSAGE_BYTES
    """Largest message forwarded (set the hosts' and trainers' limit to the same)."""
    allow_token_over_plaintext: bool = False
    """Allow tokens on a plaintext, non-loopback listener (they would travel readable)."""
    metrics_port: int | None = None
    """Serve Prometheus metrics (the hub's and each host's, labelled ``host``) at
    ``http(s)://metrics_host:metrics_port/metrics``; None: no endpoint. Over HTTPS with ``tls``, for
    holders of ``tokens`` when there are any."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics endpoint binds (loopback unless you say otherwise)."""
    web_port: int | None = None
    """Serve the monitoring page (as a server's ``web_port``: the relayed sessions, charts of each host's
    figures and of their sum) on this port; None: no page. It binds ``host`` when the hub has TLS and
    ``tokens`` (over HTTPS, for token holders), else 127.0.0.1."""
    frames: bool = True
    """Carry routed sessions to hosts over frame streams (a TCP connection per session, TLS with
    ``tls``), much cheaper than a second gRPC stream; False: every session on a gRPC Carry stream."""
    frames_port: int | None = None
    """Port of the frame listener, on ``host`` (hosts must reach it as they reach ``port``); None:
    ``port + 1`` (a free port when ``port`` is 0); 0: a free port."""

    @property
    def frames_bind_port(self) -> int:
        """The port the frame listener binds (0: a free one)."""
        if self.frames_port is not None:
            return self.frames_port
        return self.port + 1 if self.port else 0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        if not self.host_tokens:
            raise ConfigError("a hub needs host_tokens: the token dialing hosts present (--host-token)")
        if set(self.host_tokens) & set(self.tokens):
            raise ConfigError("host_tokens and tokens must differ: a trainer's token must not attach a host")
        if self.frames_port is not None and not 0 <= self.frames_port <= 65535:
            raise ConfigError(f"frames_port must be in 0..65535, got {self.frames_port}")
        if self.frames and self.port == 65535 and self.frames_port is None:
            raise ConfigError("port 65535 leaves no port + 1 for the frame listener: set frames_port")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be in 0..65535, got {self.metrics_port}")
        if self.web_port is not None and not 0 <= self.web_port <= 65535:
            raise ConfigError(f"web_port must be in 0..65535, got {self.web_port}")
        if self.host_grace_s < 0:
            raise ConfigError(f"host_grace_s must be >= 0, got {self.host_grace_s!r}")
        if not 1024 <= self.max_message_bytes < 1 << 31:
            raise ConfigError(f"max_message_bytes must be in 1024..2**31-1, got {self.max_message_bytes}")
        if self.tls is None and not is_loopback(self.host) and not self.allow_token_over_plaintext:
            raise ConfigError(
                f"host tokens on a plaintext listener at {self.host} would travel readable: configure "
                "TLS, bind a loopback address, or set allow_token_over_plaintext=True"
            )
