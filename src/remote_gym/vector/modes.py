"""The autoreset mode of a vector env, from what users, requests and env metadata name it by."""

from __future__ import annotations

from gymnasium.vector import AutoresetMode

from remote_gym.errors import ConfigError


def autoreset_mode_of(mode: AutoresetMode | str) -> AutoresetMode:
    """The AutoresetMode for a member, its value (``"NextStep"``) or its name (``"NEXT_STEP"``).

    Raises:
        ConfigError: Anything else.
    """
    if isinstance(mode, AutoresetMode):
        return mode
    for member in AutoresetMode:
        if mode in (member.value, member.name):
            return member
    raise ConfigError(f"autoreset_mode must be one of {[m.value for m in AutoresetMode]}, got {mode!r}")
