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

# -- Dead peers and session resumption ------------------------------------------------------------
# How the numbers below fit together (both sides use the same keepalive):
#
#   a dead connection is noticed          at once on a reset, else within KEEPALIVE_DETECTION_S (7 s)
#   the client then tries to resume       for up to DEFAULT_CLIENT_RESUME_S (30 s), in attempts of at
#                                         most RESUME_ATTEMPT_TIMEOUT_S (2 s), each on a new connection
#   the server keeps the detached session for DEFAULT_RESUME_WINDOW_S (60 s) from when it noticed
#
# so the window outlasts the worst gap between the two sides noticing plus the client's whole
# budget plus one attempt (7 + 30 + 2 = 39 s < 60 s; tests/unit/test_config.py checks it). A trainer
# that is idle when the connection drops (a PPO update) keeps its session if its next call comes
# within the window of the server noticing the drop.

KEEPALIVE_TIME_MS = 4_000
"""gRPC keepalive ping interval, so a dead peer is noticed in seconds (interval + timeout)."""

KEEPALIVE_TIMEOUT_MS = 3_000
"""How long a keepalive ping may go unanswered."""

KEEPALIVE_DETECTION_S = (KEEPALIVE_TIME_MS + KEEPALIVE_TIMEOUT_MS) / 1000
"""Longest time either side takes to notice a silent (not reset) connection."""

DEFAULT_RESUME_WINDOW_S = 60.0
"""Seconds a server keeps a session whose stream broke, waiting for the client to resume it
(ServerConfig.resume_window_s). A vanished client's worker is freed this long after the server
noticed; 0 turns resumption off."""

DEFAULT_CLIENT_RESUME_S = 30.0
"""Seconds a client keeps trying to resume a session after its connection dropped (ClientConfig.resume_s);
each new loss of the connection after a successful resume starts a new budget."""

RESUME_ATTEMPT_TIMEOUT_S = 2.0
"""Longest one resume attempt (new connection + handshake) may take before the next one starts."""

RESUME_PROBE_S = 0.25
"""After a resume, while the re-sent request's reply takes longer than this, the client probes the new
connection (see client/connection.py: a reset it missed then shows at once)."""

RESUME_BACKOFF_S = (0.01, 1.0)
"""First and largest pause between resume attempts (doubling)."""

DEFAULT_MAX_KWARGS_BYTES = 64 * 1024
"""Largest JSON text of kwargs a client may send to make an environment (ServerConfig.max_kwargs_bytes);
checked before the text is parsed."""

DEFAULT_SERVER_SPIN_US = 300.0
"""Microseconds the server polls for a lone session's next request, and for its worker's quick reply,
before sleeping (ServerConfig.spin_us).

On a 2-core VM a process wake-up costs 35-40 µs or more; a cheap env (CartPole) answers well within
this, and a client stepping it in a loop sends its next request within it too."""

DEFAULT_CLIENT_SPIN_US = 300.0
"""Microseconds a client polls for a quick reply before sleeping (ClientConfig.spin_us); it saves
the wake-up of the waiting thread, ~20-40 µs per reply on a small VM."""

# capabilities

CAPABILITY_LANE_TCP = "lane_tcp"
"""A client that can open a same-host lane over loopback TCP (``MakeResponse.lane_path`` of the form
``tcp:127.0.0.1:PORT``); a server offers a TCP lane only to a client that advertises it."""

CLIENT_CAPABILITIES = (CAPABILITY_LANE_TCP,)
"""What this version's client advertises in ``MakeRequest.client_capabilities``."""
