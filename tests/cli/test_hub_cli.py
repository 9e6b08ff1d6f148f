"""`remote-gym hub` and `remote-gym serve --dial`: refusals before anything starts (the namespace test runs them for real)."""

from __future__ import annotations

import pytest

from remote_gym.cli.dial_options import HOST_TOKEN_ENV
from tests.cli.helpers import run_cli


def test_hub_needs_a_host_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOST_TOKEN_ENV, raising=False)
    code, out = run_cli("hub", "--port", "0")
    assert code == 1
    assert "--host-token" in out


def test_hub_refuses_a_host_token_over_plaintext(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run_cli("hub", "--host", "0.0.0.0", "--port", "0", "--host-token", "t0k")
    assert code == 1
    assert "travel readable" in out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--dial", "127.0.0.1:1"), "--dial needs --name and --dial-token"),
        (("--dial", "127.0.0.1:1", "--name", "x", "--dial-token", "t", "--dial-cert", "c.pem"), "--dial-key"),
    ],
)
def test_serve_dial_refuses_missing_flags(
    flags: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HOST_TOKEN_ENV, raising=False)
    code, out = run_cli("serve", "CartPole-v1", *flags)
    assert code == 1
    assert message in out
