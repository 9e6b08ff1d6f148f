"""The committed generated protocol code matches proto/remote_gym/v1/*.proto."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _gen_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_up_to_date(tmp_path: pathlib.Path) -> None:
    """Regenerating from the .proto gives exactly the committed files (run scripts/gen_protos.py if not)."""
    pytest.importorskip("grpc_tools")
    written = _gen_module().generate(tmp_path)
    assert written, "protoc produced no files"
    committed_dir = ROOT / "src" / "remote_gym" / "protocol" / "v1"
    for path in written:
        committed = committed_dir / path.name
        assert committed.exists(), f"{path.name} is generated but not committed"
        assert committed.read_text() == path.read_text(), f"{path.name} is stale: run scripts/gen_protos.py"


def test_every_message_and_field_is_commented() -> None:
    """Every message, field and enum value in the .proto has a comment line above it (or a oneof member)."""
    text = (ROOT / "proto" / "remote_gym" / "v1" / "remote_gym.proto").read_text().splitlines()
    missing = []
    in_oneof = False
    for i, line in enumerate(text):
        stripped = line.strip()
        if stripped.startswith("oneof "):
            in_oneof = True
            continue
        if in_oneof and stripped == "}":
            in_oneof = False
            continue
        is_decl = stripped.startswith(("message ", "enum ", "rpc ")) or (
            "=" in stripped
            and stripped.endswith(";")
            and not stripped.startswith(("syntax", "package", "//"))
        )
        if not is_decl or in_oneof:
            continue
        previous = text[i - 1].strip() if i else ""
        # Enum values may share one comment with their group (e.g. "Signed integers.").
        if not previous.startswith("//") and not (stripped.startswith(("DTYPE_", "AUTORESET_MODE_"))):
            missing.append(stripped)
    assert not missing, f"uncommented declarations: {missing}"
