"""The wire layer is the one home of frames, polling rules and the lane handshake (nothing else defines them)."""

from __future__ import annotations

import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "src" / "remote_gym"
SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("wire", "protocol")
)

# What defines a frame, a polling rule or a handshake; each may appear only under remote_gym/wire.
DEFINITIONS = {
    "a frame header (struct of two u32)": re.compile(r"""Struct\(\s*["']<II["']"""),
    "a header unpacked by hand": re.compile(r"""unpack(_from)?\(\s*["']<I"""),
    "a running-average weight": re.compile(r"\b0\.125\b"),
    "a polling loop (sched_yield)": re.compile(r"sched_yield"),
    "a CPU count deciding polling": re.compile(r"sched_getaffinity"),
    "a lane acceptance literal": re.compile(r"""b["']ok["']"""),
    "a control message literal": re.compile(r"""b['"]\{"op"""),
    "a request number wrapping": re.compile(r"NUMBER_MODULUS\s*-\s*1"),
}


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(PACKAGE)) for p in SOURCES])
def test_no_wire_rule_outside_the_wire_layer(path: pathlib.Path) -> None:
    """No module outside remote_gym.wire packs a frame, decides polling or speaks the handshake itself."""
    text = path.read_text()
    found = [what for what, pattern in DEFINITIONS.items() if pattern.search(text)]
    assert not found, f"{path.relative_to(PACKAGE)} defines {', '.join(found)}: use remote_gym.wire"


def test_the_patterns_find_what_they_look_for() -> None:
    """Each pattern matches the wire layer's own definition (so a copy elsewhere would be found)."""
    wire = "\n".join(p.read_text() for p in (PACKAGE / "wire").glob("*.py"))
    missing = [
        what
        for what, pattern in DEFINITIONS.items()
        if not pattern.search(wire)
        and what not in ("a header unpacked by hand", "a CPU count deciding polling")
    ]
    assert not missing, missing
