"""Hosting "auto": worker processes where the platform can fork them, in-process elsewhere (Windows)."""

from __future__ import annotations

import logging
import os

import pytest

from remote_gym.errors import ConfigError
from remote_gym.server.config import ServerConfig, process_hosting_available
from remote_gym.server.registry import make_entry

_ENVS = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)


@pytest.mark.skipif(not process_hosting_available(), reason="needs fork")
def test_auto_is_process_where_workers_can_be_forked() -> None:
    assert ServerConfig(environments=_ENVS).hosting == "process"
    assert ServerConfig(environments=_ENVS, hosting="process").hosting == "process"


def test_without_fork_auto_is_inline_with_a_warning_and_process_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(os, "fork", raising=False)
    assert not process_hosting_available()
    with caplog.at_level(logging.WARNING, logger="remote_gym.server.config"):
        assert ServerConfig(environments=_ENVS).hosting == "inline"
    assert "no fork" in caplog.text
    with pytest.raises(ConfigError, match='hosting="inline"'):
        ServerConfig(environments=_ENVS, hosting="process")
    assert ServerConfig(environments=_ENVS, hosting="inline").hosting == "inline"
