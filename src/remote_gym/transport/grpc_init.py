"""Import gRPC with the transport that is fastest on Linux; imported before anything else imports grpc.

grpcio >= 1.80 moved its TCP endpoints to EventEngine. On the 2-core VM of the benchmarks, a bare
grpc.aio bidi-stream round trip costs ~150 µs with it, ~110 µs when the server's listener uses
gRPC's previous (iomgr) endpoints, and ~80 µs when the client's connections do too
(``GRPC_EXPERIMENTS=-event_engine_client,-event_engine_listener``). gRPC reads ``GRPC_EXPERIMENTS``
once, while ``grpc`` is first imported, so this module sets it just for that import and restores the
environment at once: child processes never see it.

Left alone: a ``GRPC_EXPERIMENTS`` the user set (even to an empty string: that keeps gRPC's own
choice), a process that imported grpc before remote_gym, platforms other than Linux, and grpcio
releases outside ``IOMGR_GRPCIO_RANGE``: before 1.80 iomgr is gRPC's default anyway, and gRPC plans
to remove these experiments, after which it would log an error for every unknown name.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import sys

GRPC_EXPERIMENTS_VAR = "GRPC_EXPERIMENTS"
IOMGR_EXPERIMENTS = "-event_engine_client,-event_engine_listener"
IOMGR_GRPCIO_RANGE = ((1, 80), (1, 90))
"""grpcio releases (major, minor), from inclusive to exclusive, that get ``IOMGR_EXPERIMENTS``."""


def applies_to(grpcio_version: str) -> bool:
    """Whether ``IOMGR_EXPERIMENTS`` is chosen for this grpcio version (e.g. ``"1.85.3"``)."""
    match = re.match(r"(\d+)\.(\d+)", grpcio_version)
    if match is None:
        return False
    low, high = IOMGR_GRPCIO_RANGE
    return low <= (int(match[1]), int(match[2])) < high


def _grpcio_version() -> str:
    """grpcio's version, read without importing grpc (the file grpc keeps it in is read directly:
    ``importlib.metadata`` costs ~25 ms, ten times more)."""
    spec = importlib.util.find_spec("grpc")
    if spec is not None and spec.origin:
        try:
            text = pathlib.Path(spec.origin).with_name("_grpcio_metadata.py").read_text(encoding="utf-8")
        except OSError:
            text = ""
        found = re.search(r"__version__\s*=\s*[\"']+([^\"']+)", text)
        if found:
            return found[1]
    from importlib import metadata  # the slow way, only when that file is missing

    try:
        return metadata.version("grpcio")
    except metadata.PackageNotFoundError:
        return ""


def _import_grpc() -> bool:
    """Import grpc, with iomgr endpoints when we may choose them; True when we chose them."""
    choose = (
        sys.platform.startswith("linux")
        and GRPC_EXPERIMENTS_VAR not in os.environ
        and "grpc" not in sys.modules
        and applies_to(_grpcio_version())
    )
    if choose:
        os.environ[GRPC_EXPERIMENTS_VAR] = IOMGR_EXPERIMENTS
    try:
        import grpc  # noqa: F401  (gRPC reads its experiments here)
    finally:
        if choose:
            os.environ.pop(GRPC_EXPERIMENTS_VAR, None)
    return choose


IOMGR_CHOSEN = _import_grpc()
"""True when remote_gym chose gRPC's iomgr endpoints for this process."""
