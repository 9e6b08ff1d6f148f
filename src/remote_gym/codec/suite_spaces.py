"""Built-in codecs for the custom spaces of popular environment suites (used where the suite is installed)."""

from __future__ import annotations

import importlib
import itertools
import re
from collections.abc import Callable
from typing import Any

from gymnasium.spaces import Space

from remote_gym.errors import DecodeError, UnsupportedSpaceError

# Of the suites on PyPI that define Gymnasium spaces not derived from a built-in one, MiniGrid (and
# BabyAI, which it contains) is by far the most downloaded: its observations hold a MissionSpace of
# mission strings. (ALE, MuJoCo, Box2D, highway-env and flappy-bird-gymnasium use built-in spaces.)

_MARK = "\x00{}\x00"
_MARK_RE = re.compile("\x00([0-9]+)\x00")
_MAX_CHECKED = 4096
"""Placeholder combinations checked against the original mission function when encoding."""


def _fill_template(parts: list[str], slots: list[int]) -> Callable[..., str]:
    """The mission function that puts its arguments into the template's slots."""

    def fill(*args: str) -> str:
        out = [parts[0]]
        for slot, part in zip(slots, parts[1:], strict=True):
            out += [args[slot], part]
        return "".join(out)

    return fill


# MissionSpace checks ``mission_func.__code__.co_argcount`` against the number of placeholder lists,
# so the rebuilt function must have exactly that many named parameters: one small function per arity.
_ARITIES: tuple[Callable[[Callable[..., str]], Callable[..., str]], ...] = (
    lambda f: lambda: f(),
    lambda f: lambda a: f(a),
    lambda f: lambda a, b: f(a, b),
    lambda f: lambda a, b, c: f(a, b, c),
    lambda f: lambda a, b, c, d: f(a, b, c, d),
    lambda f: lambda a, b, c, d, e: f(a, b, c, d, e),
    lambda f: lambda a, b, c, d, e, g: f(a, b, c, d, e, g),
    lambda f: lambda a, b, c, d, e, g, h: f(a, b, c, d, e, g, h),
)


def encode_mission_space(space: Any) -> dict[str, Any]:
    """MiniGrid's ``MissionSpace`` as its placeholder lists and the template its function fills.

    Raises:
        UnsupportedSpaceError: If the mission function does more than put its arguments into a
            fixed text (the rebuilt function would then differ), or takes too many arguments.
    """
    placeholders = space.ordered_placeholders
    count = 0 if placeholders is None else len(placeholders)
    if count >= len(_ARITIES):
        raise UnsupportedSpaceError(f"MissionSpace with {count} placeholders (at most {len(_ARITIES) - 1})")
    pieces = _MARK_RE.split(space.mission_func(*(_MARK.format(i) for i in range(count))))
    parts, slots = pieces[0::2], [int(slot) for slot in pieces[1::2]]
    rebuilt = _fill_template(parts, slots)
    checks = itertools.chain(
        [[""] * count], itertools.islice(itertools.product(*(placeholders or [])), _MAX_CHECKED)
    )
    for args in checks:
        if rebuilt(*args) != space.mission_func(*args):
            raise UnsupportedSpaceError(f"the mission function of {space!r} is not a fixed template")
    return {
        "placeholders": None if placeholders is None else [list(p) for p in placeholders],
        "parts": parts,
        "slots": slots,
    }


def decode_mission_space(payload: Any) -> Space[Any]:
    """The ``MissionSpace`` :func:`encode_mission_space` described.

    Raises:
        DecodeError: If the payload is malformed.
    """
    try:
        placeholders, parts, slots = payload["placeholders"], payload["parts"], payload["slots"]
        count = 0 if placeholders is None else len(placeholders)
        if len(parts) != len(slots) + 1 or any(not 0 <= slot < count for slot in slots):
            raise ValueError("template slots do not match its parts and placeholders")
        mission_func = _ARITIES[count](_fill_template(list(parts), list(slots)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DecodeError(f"malformed MissionSpace payload: {exc}") from exc
    mission = importlib.import_module("minigrid.core.mission")
    return mission.MissionSpace(mission_func=mission_func, ordered_placeholders=placeholders)  # type: ignore[no-any-return]


def _decode_babyai_mission_space(payload: Any) -> Space[Any]:
    """BabyAI's mission space: it takes no parameters (and accepts every string)."""
    level = importlib.import_module("minigrid.envs.babyai.core.roomgrid_level")
    return level.BabyAIMissionSpace()  # type: ignore[no-any-return]


SUITE_CODECS: dict[str, tuple[str, str, Callable[[Any], Any], Callable[[Any], Space[Any]]]] = {
    "minigrid.MissionSpace": (
        "minigrid.core.mission",
        "MissionSpace",
        encode_mission_space,
        decode_mission_space,
    ),
    "minigrid.BabyAIMissionSpace": (
        "minigrid.envs.babyai.core.roomgrid_level",
        "BabyAIMissionSpace",
        lambda space: None,
        _decode_babyai_mission_space,
    ),
}
"""Codec name -> (module, class name, encode, decode); a codec is used only where its module imports."""
