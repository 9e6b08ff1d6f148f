"""HubConfig and the dial fields of ServerConfig refuse what cannot work, before anything starts."""

from __future__ import annotations

import pytest

from remote_gym.errors import ConfigError
from remote_gym.hub import HubConfig
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.transport.auth import TokenAuth

HOSTS = (TokenAuth("hosts"),)
ENTRIES = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host_tokens": ()}, "needs host_tokens"),
        ({"host_tokens": HOSTS, "tokens": HOSTS}, "must differ"),
        ({"host_tokens": HOSTS, "host": "0.0.0.0"}, "travel readable"),
        ({"host_tokens": HOSTS, "host_grace_s": -1}, "host_grace_s"),
        ({"host_tokens": HOSTS, "port": 70000}, "port"),
        ({"host_tokens": HOSTS, "web_port": -1}, "web_port"),
    ],
)
def test_hub_config_refuses(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        HubConfig(**options)  # type: ignore[arg-type]


def test_plaintext_hub_off_loopback_when_allowed() -> None:
    assert HubConfig(host="0.0.0.0", host_tokens=HOSTS, allow_token_over_plaintext=True).host == "0.0.0.0"


def test_dial_needs_a_name_and_a_token() -> None:
    with pytest.raises(ConfigError, match="dial_name and dial_token"):
        ServerConfig(environments=ENTRIES, dial=("hub:1",), dial_token="t")
    with pytest.raises(ConfigError, match="dial_name and dial_token"):
        ServerConfig(environments=ENTRIES, dial=("hub:1",), dial_name="lab")


def test_dial_accepts_one_address_or_a_list_and_a_str_token() -> None:
    one = ServerConfig(environments=ENTRIES, dial="hub:1", dial_name="lab", dial_token="t")  # type: ignore[arg-type]
    many = ServerConfig(environments=ENTRIES, dial=["a:1", "b:2"], dial_name="lab", dial_token="t")  # type: ignore[arg-type]
    assert (one.dial, many.dial) == (("hub:1",), ("a:1", "b:2"))
    assert one.dial_token == TokenAuth("t")
