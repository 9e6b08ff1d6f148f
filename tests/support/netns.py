"""Two network namespaces joined by a veth pair, for tests whose peers must be on different "hosts".

Link-local addresses (169.254.N.1 and .2 of a /30 picked from the process id, apart from other runs
on the machine); both namespaces are deleted afterwards. Needs root and iproute2 (``ip``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


def netns_available() -> bool:
    """Whether this process may make namespaces (root, with ``ip`` installed)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def ip(*args: str) -> None:
    """Run ``ip ARGS`` (raises CalledProcessError on failure)."""
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class NetnsPair:
    """Two namespaces and the address of each on the veth link between them."""

    a: str
    b: str
    a_ip: str
    b_ip: str

    def popen(self, ns: str, *command: str, **kwargs: Any) -> subprocess.Popen[str]:
        """Start ``command`` inside namespace ``ns`` (text mode)."""
        return subprocess.Popen(["ip", "netns", "exec", ns, *command], text=True, **kwargs)


class NetnsUnavailable(Exception):
    """The namespaces could not be made here (the caller skips)."""


@contextlib.contextmanager
def veth_pair(prefix: str) -> Iterator[NetnsPair]:
    """Namespaces ``{prefix}-a-PID`` and ``{prefix}-b-PID`` joined by a veth pair; deleted on exit.

    Raises:
        NetnsUnavailable: ``ip`` refused (no privileges, no veth support).
    """
    tag = f"{os.getpid() % 100000}"
    a, b = f"{prefix}-a-{tag}", f"{prefix}-b-{tag}"
    subnet = 1 + os.getpid() % 250
    a_ip, b_ip = f"169.254.{subnet}.1", f"169.254.{subnet}.2"
    dev_a, dev_b = f"{prefix[:4]}a{tag}", f"{prefix[:4]}b{tag}"
    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("link", "add", dev_a, "netns", a, "type", "veth", "peer", "name", dev_b, "netns", b)
        for ns, dev, address in ((a, dev_a, a_ip), (b, dev_b, b_ip)):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", f"{address}/30", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
    except subprocess.CalledProcessError as exc:
        _delete(a, b)
        raise NetnsUnavailable(exc.stderr.decode().strip()) from exc
    try:
        yield NetnsPair(a, b, a_ip, b_ip)
    finally:
        _delete(a, b)


def _delete(*namespaces: str) -> None:
    for ns in namespaces:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
