"""gRPC channel and server option lists: message limits and keepalive."""

from __future__ import annotations

from remote_gym._constants import KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS, MAX_MESSAGE_BYTES

Options = list[tuple[str, int | str]]


def channel_options(*, max_message_bytes: int = MAX_MESSAGE_BYTES, target_name: str | None = None) -> Options:
    """Options for a client channel: explicit message limits and keepalive pings."""
    options: Options = [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        # Any unanswered ping (not only keepalive's) ends the transport this fast; default: 1 minute.
        ("grpc.http2.ping_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Each RemoteEnv gets its own connection, so envs never queue behind each other's frames.
        ("grpc.use_local_subchannel_pool", 1),
        # Reconnect fast after a dropped connection (gRPC's default first backoff is 1 s), so a
        # session resumes within a fraction of a second of the network coming back.
        ("grpc.initial_reconnect_backoff_ms", 50),
        ("grpc.min_reconnect_backoff_ms", 50),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    if target_name:
        options.append(("grpc.ssl_target_name_override", target_name))
    return options


def server_options(*, max_message_bytes: int = MAX_MESSAGE_BYTES) -> Options:
    """Options for the server: message limits, keepalive, and tolerance for client pings."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.http2.ping_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_TIME_MS // 2),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.so_reuseport", 0),
    ]
