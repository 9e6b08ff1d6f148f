"""Client configuration: timeouts and connection options."""

from __future__ import annotations

from dataclasses import dataclass

from remote_gym._constants import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_CLIENT_RESUME_S,
    DEFAULT_CLIENT_SPIN_US,
    DEFAULT_CONNECT_TIMEOUT_S,
    MAX_MESSAGE_BYTES,
)
from remote_gym.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """How long a client waits, in seconds."""

    connect: float = DEFAULT_CONNECT_TIMEOUT_S
    """Seconds to reach the server (channel ready and server answering)."""
    call: float | None = DEFAULT_CALL_TIMEOUT_S
    """Seconds per reset/step/render reply, and for creating the environment; None waits forever."""

    @property
    def make(self) -> float:
        """Seconds for creating the environment (or a vector env's share of it): the longer of the two."""
        return max(self.call or 0.0, self.connect)

    def __post_init__(self) -> None:
        if self.connect <= 0:
            raise ConfigError(f"Timeouts.connect must be > 0, got {self.connect!r}")
        if self.call is not None and self.call <= 0:
            raise ConfigError(f"Timeouts.call must be > 0 or None, got {self.call!r}")


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """Connection options shared by RemoteEnv and RemoteVectorEnv."""

    timeouts: Timeouts = Timeouts()
    """Connect and per-call timeouts."""
    compression: bool = True
    """Accept zstd-compressed large arrays (rendered frames) from the server."""
    max_message_bytes: int = MAX_MESSAGE_BYTES
    """Largest message sent or accepted."""
    resume_s: float = DEFAULT_CLIENT_RESUME_S
    """Seconds to keep reconnecting to resume a session after its connection dropped (0: never resume)."""
    spin_us: float = DEFAULT_CLIENT_SPIN_US
    """While replies usually come within this many microseconds, wait for one by polling instead of
    sleeping: saves a thread wake-up per reply (~20-40 µs on a small VM) for the CPU time of the
    waiting thread. Replies that usually take longer (a slow env) are slept for; a process with one
    usable CPU never polls. 0: never poll."""

    same_host_lane: bool = True
    """Use the direct lane to the session's worker when the server offers one (same machine, and this
    process can open the lane's socket): requests skip the server's gRPC process. Any lane failure
    falls back to the gRPC stream silently, with the same request numbers. False: always gRPC."""
    network_lane: bool = True
    """From another host, use the direct stream to the session's worker when the server offers one
    (``ServerConfig.network_lane``): TLS with this client's trust when the channel is TLS. Any
    failure falls back to the gRPC stream with the same request numbers (nothing lost or repeated).
    False: the make request does not ask for it, and every request goes through gRPC."""

    def __post_init__(self) -> None:
        if self.resume_s < 0:
            raise ConfigError(f"resume_s must be >= 0, got {self.resume_s!r}")
        if not 0 <= self.spin_us <= 10_000:
            raise ConfigError(f"spin_us must be in 0..10000, got {self.spin_us!r}")
        if self.max_message_bytes < 1024:
            raise ConfigError(f"max_message_bytes must be >= 1024, got {self.max_message_bytes}")
