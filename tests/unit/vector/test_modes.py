"""Tests for remote_gym.vector.modes: one reading of an autoreset mode for users, requests and env metadata."""

from __future__ import annotations

import pytest
from gymnasium.vector import AutoresetMode

from remote_gym.errors import ConfigError
from remote_gym.vector.modes import autoreset_mode_of


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda mode: mode.name)
def test_a_mode_is_read_from_its_member_value_or_name(mode: AutoresetMode) -> None:
    """The member itself, its value (Gymnasium's metadata) and its name (a session's spec) all name it."""
    assert autoreset_mode_of(mode) is mode
    assert autoreset_mode_of(mode.value) is mode
    assert autoreset_mode_of(mode.name) is mode


def test_anything_else_is_a_config_error_naming_the_choices() -> None:
    """A user's typo gets the list of valid values."""
    with pytest.raises(ConfigError, match="NextStep"):
        autoreset_mode_of("next")
