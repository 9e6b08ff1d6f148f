"""Configuration objects refuse bad values before any I/O, and are frozen."""

from __future__ import annotations

import dataclasses

import pytest

from remote_gym import ClientConfig, ServerConfig, Timeouts, TLSConfig
from remote_gym.errors import ConfigError, PermissionDeniedError
from remote_gym.server.registry import ANY_KWARGS, make_entry
from remote_gym.transport.tls import ServerTLSConfig, is_loopback


@pytest.mark.parametrize("kwargs", [{"connect": 0}, {"connect": -1.0}, {"call": 0}])
def test_bad_timeouts_are_refused(kwargs: dict[str, float]) -> None:
    """Non-positive timeouts raise ConfigError."""
    with pytest.raises(ConfigError):
        Timeouts(**kwargs)


def test_configs_are_frozen() -> None:
    """Config objects cannot be changed after creation."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Timeouts().connect = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ClientConfig().compression = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"environments": ()},
        {"hosting": "threads"},
        {"port": 70000},
        {"max_sessions": -1},
        {"spin_us": -1},
        {"worker_spin_us": 20_000},
    ],
)
def test_bad_server_config_is_refused(kwargs: dict[str, object]) -> None:
    """ServerConfig refuses empty registries, unknown hosting modes, bad ports and limits."""
    base: dict[str, object] = {"environments": (make_entry("CartPole-v1", gym_id="CartPole-v1"),)}
    with pytest.raises(ConfigError):
        ServerConfig(**{**base, **kwargs})  # type: ignore[arg-type]


def test_credential_tuples_of_the_seed() -> None:
    """The 0.7.x credential tuples map onto TLS settings; the CA and client cert are optional."""
    assert TLSConfig.from_paths(("ca.pem",)).cert is None
    client = TLSConfig.from_paths(("ca.pem", "client.pem", "client-key.pem"))
    assert (client.ca, client.cert, client.key) == ("ca.pem", "client.pem", "client-key.pem")
    assert not ServerTLSConfig.from_paths(("server.pem", "server-key.pem")).mutual
    assert ServerTLSConfig.from_paths(("server.pem", "server-key.pem", "ca.pem")).mutual
    assert not ServerTLSConfig.from_paths(("server.pem", "server-key.pem", None)).mutual
    with pytest.raises(ConfigError):
        TLSConfig.from_paths(("ca.pem", "client.pem"))


def test_unreadable_certificate_is_config_error(tmp_path: object) -> None:
    """A missing certificate file gives ConfigError naming the file."""
    with pytest.raises(ConfigError, match=r"nope\.pem"):
        TLSConfig(ca="nope.pem").channel_credentials()


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("10.0.0.1", False), ("envs.lab", False)],
)
def test_loopback_detection(host: str, expected: bool) -> None:
    """Loopback hosts are recognised (they get local credentials instead of plaintext)."""
    assert is_loopback(host) is expected


def test_entry_allows_only_declared_kwargs_by_default() -> None:
    """By default clients may override exactly the kwargs the operator set, and never code keys."""
    entry = make_entry("lvl", gym_id="CartPole-v1", kwargs={"level": 3})
    assert entry.merge_kwargs({"level": 5}) == {"level": 5}
    with pytest.raises(PermissionDeniedError):
        entry.merge_kwargs({"other": 1})
    with pytest.raises(PermissionDeniedError):
        make_entry("any", gym_id="CartPole-v1", allowed_kwargs=ANY_KWARGS).merge_kwargs(
            {"entrypoint": "x.py"}
        )


def test_entry_needs_json_kwargs_and_one_source(tmp_path: object) -> None:
    """Entries need exactly one of gym_id/entrypoint, an existing file, and JSON kwargs."""
    with pytest.raises(ConfigError):
        make_entry("x")
    with pytest.raises(ConfigError):
        make_entry("x", entrypoint="/nonexistent/entry.py")
    with pytest.raises(ConfigError):
        make_entry("x", gym_id="CartPole-v1", kwargs={"f": object()})


def test_resume_defaults_fit_together() -> None:
    """The server's resume window outlasts keepalive detection plus the client's whole resume budget."""
    from remote_gym._constants import KEEPALIVE_DETECTION_S, RESUME_ATTEMPT_TIMEOUT_S

    window = ServerConfig(
        environments=(make_entry("CartPole-v1", gym_id="CartPole-v1"),), port=0
    ).resume_window_s
    budget = ClientConfig().resume_s
    assert window > KEEPALIVE_DETECTION_S + budget + RESUME_ATTEMPT_TIMEOUT_S


def test_string_tokens_become_token_auth() -> None:
    """ServerConfig(tokens=("s3cret",)) holds TokenAuth("s3cret"); anything else is a ConfigError at once."""
    from remote_gym.transport.auth import TokenAuth

    entries = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)
    config = ServerConfig(environments=entries, port=0, tokens=("s3cret",))  # type: ignore[arg-type]
    assert config.tokens == (TokenAuth("s3cret"),)
    with pytest.raises(ConfigError, match="TokenAuth"):
        ServerConfig(environments=entries, port=0, tokens=(42,))  # type: ignore[arg-type]
