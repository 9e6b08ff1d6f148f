"""Server configuration: where to listen, how to host environments, and limits."""

from __future__ import annotations

import logging
import os
import socket
import sys
from dataclasses import dataclass, field

from remote_gym._constants import (
    DEFAULT_MAX_KWARGS_BYTES,
    DEFAULT_PORT,
    DEFAULT_RESUME_WINDOW_S,
    DEFAULT_SERVER_SPIN_US,
    MAX_MESSAGE_BYTES,
)
from remote_gym.errors import ConfigError
from remote_gym.server.network_lane import NetworkLaneConfig
from remote_gym.server.registry import EnvEntry
from remote_gym.transport.auth import TokenAuth
from remote_gym.transport.tls import ServerTLSConfig, TLSConfig, is_loopback

HOSTING_MODES = ("process", "inline", "auto")
WORKER_STARTS = ("auto", "fork", "spawn")
LANE_TRANSPORTS = ("auto", "unix", "tcp")

logger = logging.getLogger(__name__)


def fork_available() -> bool:
    """Whether workers can be forked from a zygote here: ``fork`` and fd passing over Unix sockets.

    Linux, macOS and the BSDs have both; Windows has neither. (macOS has them, but forking after
    importing libraries that are not fork-safe is not: ``worker_start="auto"`` spawns there.)
    """
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def process_hosting_available() -> bool:
    """Whether this platform can run worker processes: always (spawned ones need only ``subprocess``).

    Kept for callers of 1.0; see :func:`fork_available` for the forked kind.
    """
    return True


def unix_lane_available() -> bool:
    """Whether the same-host lane can be a Unix socket here (else it is loopback TCP: Windows)."""
    return hasattr(socket, "AF_UNIX")


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Everything an :class:`~remote_gym.server.server.EnvServer` needs.

    Example:
        >>> from remote_gym.server.registry import make_entry
        >>> ServerConfig(environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), port=0).hosting
        'process'
    """

    environments: tuple[EnvEntry, ...]
    """Environments clients may create; the first is the default."""
    host: str = "127.0.0.1"
    """Address to bind; ``0.0.0.0`` or ``::`` for every interface; ``unix:PATH`` for a Unix socket
    (same machine only; ``port`` is then ignored)."""
    port: int = DEFAULT_PORT
    """Port to bind; 0 picks a free one (see ``EnvServer.port``)."""
    tls: ServerTLSConfig | None = None
    """TLS (mutual when it has a client CA); None: local credentials on loopback, else plaintext."""
    health_port: int | None = None
    """Also serve the gRPC health service alone, in plaintext, on this port (0: a free one): for
    probes that cannot speak TLS (Kubernetes' ``grpc`` probes). None: health only on ``port``."""
    hosting: str = "auto"
    """``"process"``: one worker process per session; ``"inline"``: envs run in the server (cheap,
    trusted); ``"auto"`` (resolved at once): ``"process"`` (every platform has worker processes:
    forked or spawned, see :attr:`worker_start`)."""
    worker_start: str = "auto"
    """How worker processes start (``hosting="process"``): ``"fork"`` from a preloaded zygote (Linux,
    macOS; ~20 ms a session); ``"spawn"``: fresh interpreters that connect back over loopback TCP
    (every OS; keep :attr:`warm_workers` ready to make it fast); ``"auto"`` (resolved at once):
    ``"fork"`` on Linux, ``"spawn"`` elsewhere (Windows has no fork; macOS forks unsafely after
    some libraries are imported)."""
    warm_workers: int = 0
    """``worker_start="spawn"``: interpreters kept started, connected and preloaded (gymnasium and
    the hosted envs' modules imported, no env made). Each serves one session and exits; another is
    started behind it. 0: each session starts its interpreter (~0.5-1 s)."""
    lane_transport: str = "auto"
    """The same-host lane's socket: ``"unix"`` (a Unix socket in a 0700 directory, where the platform has
    them: not Windows), ``"tcp"`` (127.0.0.1, a free port, guarded by the session's one-time
    secret; offered only to clients that advertise the ``lane_tcp`` capability), ``"auto"``
    (resolved at once): ``"unix"`` where available, else ``"tcp"``."""
    max_sessions: int = 256
    """Sessions open at once; more are refused with ServerBusyError (0: unlimited)."""
    max_envs_per_session: int = 1024
    """Most sub-environments one vector session may ask for."""
    workers_per_session: int = 1
    """Processes that step one vector session's sub-envs in parallel (``hosting="process"`` only)."""
    max_message_bytes: int = MAX_MESSAGE_BYTES
    """Largest message sent or accepted."""
    max_kwargs_bytes: int = DEFAULT_MAX_KWARGS_BYTES
    """Largest JSON text of environment kwargs a client may send (checked before it is parsed)."""
    compress: bool = True
    """zstd-compress large arrays (frames) for clients that accept it."""
    tags: dict[str, str] = field(default_factory=dict)
    """Free-form labels shown in logs."""
    tokens: tuple[TokenAuth, ...] = ()
    """Bearer tokens accepted; empty: no token needed. Health checks never need one."""
    allow_token_over_plaintext: bool = False
    """Allow tokens on a plaintext, non-loopback listener (they would travel readable)."""
    session_idle_timeout_s: float | None = None
    """End a session that sent no request for this long (frees its worker); None: never."""
    max_call_s: float | None = None
    """Kill a worker whose reset/step/render takes longer than this; None: no limit."""
    resume_window_s: float = DEFAULT_RESUME_WINDOW_S
    """Seconds a session outlives a broken stream, so its client can reconnect and resume (0: never)."""
    spin_us: float = DEFAULT_SERVER_SPIN_US
    """While a session has the server to itself (no other session's request in the last 10 ms), the
    server polls this long for its next request, and (process hosting) for its worker's reply,
    before sleeping. Each saves a wake-up (~20-40 µs a step on a small VM); what usually takes
    longer is not polled for. 0: never poll. (Mirrors ``ClientConfig.spin_us``.)"""
    same_host_lane: bool = True
    """Offer a client on this machine (connected over loopback or a Unix socket) a direct lane to its
    session's worker: a Unix socket in a directory only the server's user can enter, opened with a
    one-time secret sent over the session's stream. Steps then skip the gRPC process; the stream
    stays the session's control channel. ``hosting="process"`` only. False: never offer it."""
    network_lane: NetworkLaneConfig | str | None = None
    """Offer a client on another host a direct stream to its session's worker (address to announce,
    ports; a string is parsed by :meth:`NetworkLaneConfig.parse`): steps then skip the gRPC process, as
    :attr:`same_host_lane` does for clients on this host. TLS with :attr:`tls`'s certificates; on a
    plaintext server only with ``NetworkLaneConfig.plaintext``. ``hosting="process"`` only. None
    (default): every remote client stays on gRPC."""
    monitoring: bool = True
    """Count each session's requests, bytes and latencies (a few integer additions and one histogram
    observation per request) for ``GetStats``, ``remote-gym top`` and the metrics endpoint. False
    turns all of that off (``GetStats`` then says so)."""
    metrics_port: int | None = None
    """Serve the figures in Prometheus' text format at ``http://host:metrics_port/metrics`` (0 picks a
    free port, see ``EnvServer.metrics_port``); over HTTPS with the server's certificate when TLS is
    configured, and asking for the server's token when it has tokens. None: no endpoint."""
    web_port: int | None = None
    """Serve a live page of the sessions (and their latest frames) at ``http://127.0.0.1:web_port/``.
    Bound to loopback unless the server has both TLS and tokens; then on ``host``, over HTTPS, for
    token holders only. It only shows: nothing there acts on sessions. None: no page."""
    dial: tuple[str, ...] = ()
    """Hubs (``host:port``) to dial out to instead of listening: the server then opens no gRPC port,
    attaches to each hub as :attr:`dial_name` and serves the sessions they route to it."""
    dial_name: str = ""
    """This host's name at its hubs (unique per hub; trainers pin a host by it). Needed with ``dial``."""
    dial_token: TokenAuth | None = None
    """The hubs' host token (``remote-gym hub --host-token``). Needed with ``dial``."""
    dial_tls: TLSConfig | None = None
    """TLS (client side; mutual with a client certificate) for the links to the hubs; None: local
    credentials to a loopback hub, else plaintext."""
    worker_spin_us: float | None = None
    """Former name of :attr:`spin_us` (workers themselves never poll); still accepted."""

    def __post_init__(self) -> None:
        if not self.environments:
            raise ConfigError("ServerConfig needs at least one environment")
        if self.hosting not in HOSTING_MODES:
            raise ConfigError(f"hosting must be one of {HOSTING_MODES}, got {self.hosting!r}")
        if self.hosting == "auto":
            object.__setattr__(self, "hosting", "process")
        self._resolve_worker_start()
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        if self.health_port is not None and not 0 <= self.health_port <= 65535:
            raise ConfigError(f"health_port must be in 0..65535, got {self.health_port}")
        if self.max_sessions < 0:
            raise ConfigError(f"max_sessions must be >= 0, got {self.max_sessions}")
        if self.workers_per_session < 1:
            raise ConfigError(f"workers_per_session must be >= 1, got {self.workers_per_session}")
        if self.workers_per_session > 1 and self.hosting != "process":
            raise ConfigError('workers_per_session > 1 needs hosting="process"')
        if self.max_envs_per_session < 1:
            raise ConfigError(f"max_envs_per_session must be >= 1, got {self.max_envs_per_session}")
        if not 1024 <= self.max_message_bytes < 1 << 31:
            raise ConfigError(f"max_message_bytes must be in 1024..2**31-1, got {self.max_message_bytes}")
        if not 2 <= self.max_kwargs_bytes <= self.max_message_bytes:
            raise ConfigError(
                f"max_kwargs_bytes must be in 2..max_message_bytes, got {self.max_kwargs_bytes!r}"
            )
        if self.worker_spin_us is not None:
            object.__setattr__(self, "spin_us", self.worker_spin_us)
            object.__setattr__(self, "worker_spin_us", None)
        if not 0 <= self.spin_us <= 10_000:
            raise ConfigError(f"spin_us must be in 0..10000, got {self.spin_us!r}")
        for name in ("metrics_port", "web_port"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 65535:
                raise ConfigError(f"{name} must be in 0..65535 or None, got {value!r}")
            if value is not None and not self.monitoring:
                raise ConfigError(f"{name} needs monitoring=True")
        if self.resume_window_s < 0:
            raise ConfigError(f"resume_window_s must be >= 0, got {self.resume_window_s!r}")
        for name in ("session_idle_timeout_s", "max_call_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be > 0 or None, got {value!r}")
        # A plain string is what clients pass as token=: accept it here too, as a TokenAuth.
        tokens = tuple(TokenAuth(t) if isinstance(t, str) else t for t in self.tokens)
        if not all(isinstance(t, TokenAuth) for t in tokens):
            raise ConfigError("tokens must be TokenAuth objects or strings")
        object.__setattr__(self, "tokens", tokens)
        if not isinstance(self.dial, tuple):  # one address, or a list of them
            object.__setattr__(self, "dial", (self.dial,) if isinstance(self.dial, str) else tuple(self.dial))
        if isinstance(self.dial_token, str):
            object.__setattr__(self, "dial_token", TokenAuth(self.dial_token))
        if self.dial and (not self.dial_name or self.dial_token is None):
            raise ConfigError("dialing hubs (dial) needs dial_name and dial_token")
        self._check_network_lane()
        if (
            self.tokens
            and self.tls is None
            and not is_loopback(self.host)
            and not self.allow_token_over_plaintext
        ):
            raise ConfigError(
                f"tokens on a plaintext listener at {self.host} would travel readable: configure TLS, "
                "bind a loopback address, or set allow_token_over_plaintext=True"
            )

    def _check_network_lane(self) -> None:
        lane = self.network_lane
        if isinstance(lane, str):
            lane = NetworkLaneConfig.parse(lane)
            object.__setattr__(self, "network_lane", lane)
        if lane is None:
            return
        if self.hosting != "process":
            raise ConfigError('network_lane needs hosting="process" (the lane leads to a worker process)')
        if self.dial:
            raise ConfigError(
                "network_lane with dial: a host that dials out to hubs is one trainers cannot reach, "
                "and its sessions go through the hub on gRPC"
            )
        if self.tls is None and not lane.plaintext:
            raise ConfigError(
                "network_lane on a server without TLS would carry steps in plaintext: configure TLS, "
                "or allow it with NetworkLaneConfig(plaintext=True) (serve --network-lane-plaintext)"
            )

    def _resolve_worker_start(self) -> None:
        if self.worker_start not in WORKER_STARTS:
            raise ConfigError(f"worker_start must be one of {WORKER_STARTS}, got {self.worker_start!r}")
        if self.lane_transport not in LANE_TRANSPORTS:
            raise ConfigError(f"lane_transport must be one of {LANE_TRANSPORTS}, got {self.lane_transport!r}")
        if self.worker_start == "auto":
            start = "fork" if sys.platform.startswith("linux") and fork_available() else "spawn"
            object.__setattr__(self, "worker_start", start)
        elif self.worker_start == "fork" and not fork_available():
            raise ConfigError(f'worker_start="fork" needs fork, which {sys.platform} lacks: use "spawn"')
        if self.lane_transport == "auto":
            object.__setattr__(self, "lane_transport", "unix" if unix_lane_available() else "tcp")
        elif self.lane_transport == "unix" and not unix_lane_available():
            raise ConfigError(f'lane_transport="unix" is not available on {sys.platform}: use "tcp"')
        if not 0 <= self.warm_workers <= 64:
            raise ConfigError(f"warm_workers must be in 0..64, got {self.warm_workers!r}")
        if self.warm_workers and (self.hosting != "process" or self.worker_start != "spawn"):
            raise ConfigError('warm_workers needs hosting="process" and worker_start="spawn"')
