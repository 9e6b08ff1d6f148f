"""Import gRPC with the transport that is fastest on Linux; imported before anything else imports grpc.

grpcio >= 1.80 moved its TCP endpoints to EventEngine. On the 2-core VM of the benchmarks, a bare
grpc.aio bidi-stream round trip costs ~150 µs with it, ~110 µs when the server's listener uses
gRPC's previous (iomgr) endpoints, and ~80 µs when the client's connections do too
(``GRPC_EXPERIMENTS=-event_engine_client,-event_engine_listener``). gRPC reads ``GRPC_EXPERIMENTS``
once, while ``grpc`` is first imported, so this module sets it just for that import and restores the
environment at once: child processes never see it.

Left alone: a ``GRPC_EXPERIMENTS`` the user set (even to an empty string: that keeps gRPC's own
choice), a process that imported grpc before remote_gym, and platforms other than Linux.
"""

from __future__ import annotations

import os
import sys

GRPC_EXPERIMENTS_VAR = "GRPC_EXPERIMENTS"
IOMGR_EXPERIMENTS = "-event_engine_client,-event_engine_listener"


def _import_grpc() -> bool:
    """Import grpc, with iomgr endpoints when we may choose them; True when we chose them."""
    choose = (
        sys.platform.startswith("linux")
        and GRPC_EXPERIMENTS_VAR not in os.environ
        and "grpc" not in sys.modules
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
