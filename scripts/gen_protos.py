"""Regenerate the committed Python code of the wire protocol from proto/remote_gym/v1/*.proto."""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT_DIR = ROOT / "src" / "remote_gym" / "protocol" / "v1"
_IMPORT = re.compile(r"^from remote_gym\.v1 import ", re.MULTILINE)


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Run protoc on every .proto file and write the Python modules into ``out_dir``."""
    from grpc_tools import protoc  # dev dependency; imported lazily

    protos = sorted(PROTO_ROOT.glob("remote_gym/v1/*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *(str(p) for p in protos),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for src in sorted(pathlib.Path(tmp, "remote_gym", "v1").glob("*.py*")):
            # protoc names imports after the .proto path; the package lives under remote_gym.protocol.
            text = _IMPORT.sub("from remote_gym.protocol.v1 import ", src.read_text())
            dst = out_dir / src.name
            dst.write_text(text)
            written.append(dst)
    return written


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args()
    for path in generate(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
