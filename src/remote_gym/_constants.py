"""Shared defaults: ports, timeouts, message limits and the protocol version."""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""Version of the remote_gym.v1 session protocol spoken by this package."""

DEFAULT_PORT = 56765
"""Port used by the 0.7.x package and by ``remote-gym serve``."""

DEFAULT_CONNECT_TIMEOUT_S = 10.0
"""Seconds a client waits for the channel to be ready and the session to be created."""

DEFAULT_CALL_TIMEOUT_S = 60.0
"""Seconds a client waits for one reset/step/render reply."""

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest message either side sends or accepts (a raw 1080p RGB frame is ~6 MiB)."""

COMPRESS_MIN_BYTES = 100 * 1024
"""Rendered frames at least this large are zstd-compressed when the peer accepts it (DESIGN.md rule 4).

Observations are not compressed: on a fast link compressing every step costs more than it saves."""

ZSTD_LEVEL = 1
"""zstd level for large arrays: fast, and ~700x smaller for a rendered CartPole frame."""

MAX_NESTING_DEPTH = 30
"""Deepest Value/Space nesting the codec accepts (protobuf parses at most 100 levels; a dict level costs 3)."""

WORKER_START_TIMEOUT_S = 60.0
"""Seconds the server waits for a worker process to create its environment."""

WORKER_STOP_TIMEOUT_S = 5.0
"""Seconds the server waits for a worker to exit before killing it."""

KEEPALIVE_TIME_MS = 4_000
"""gRPC keepalive ping interval, so a dead peer is noticed in seconds (interval + timeout)."""

KEEPALIVE_TIMEOUT_MS = 3_000
"""How long a keepalive ping may go unanswered."""

DEFAULT_RESUME_WINDOW_S = 3.0
"""Seconds a server keeps a session whose stream broke, waiting for the client to resume it.

Short by default, so that a vanished client's worker is freed within seconds; raise it for flaky
networks (ServerConfig.resume_window_s)."""

DEFAULT_WORKER_SPIN_US = 300.0
"""Microseconds the server polls for a lone session's next request, and for its worker's quick reply,
before sleeping (ServerConfig.worker_spin_us).

On a 2-core VM a process wake-up costs 35-40 µs or more; a cheap env (CartPole) answers well within
this, and a client stepping it in a loop sends its next request within it too."""

POLL_AVERAGE_WEIGHT = 0.125
"""Weight of the newest sample in the running averages that decide whether polling pays."""

DEFAULT_CLIENT_RESUME_S = 10.0
"""Seconds a client keeps trying to reconnect and resume a session after its connection dropped."""

DEFAULT_CLIENT_SPIN_US = 300.0
"""Microseconds a client polls for a quick reply before sleeping (ClientConfig.spin_us); it saves
the wake-up of the waiting thread, ~20-40 µs per reply on a small VM."""
