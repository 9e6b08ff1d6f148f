"""Ray tests run in a fresh network namespace: tests/ray/netns is collected only there."""

from __future__ import annotations

import os

IN_NETNS_ENV = "REMOTE_GYM_TEST_IN_NETNS"
"""Set (to 1) in the pytest process that runs inside the network namespace."""

collect_ignore = [] if os.environ.get(IN_NETNS_ENV) else ["netns"]
