"""Run cutting proxies in a process of their own (in another network namespace): ``python -m tests.support.cutting_relay``.

Arguments: LISTEN_HOST FIRST_PORT COUNT TARGET_HOST LO HI SEED. Listens on LISTEN_HOST at each port of
FIRST_PORT .. FIRST_PORT+COUNT-1, forwards each to the same port of TARGET_HOST, and resets every
connection of a port after a random LO..HI chunks (:meth:`CuttingProxy.cut_randomly`). Prints
``ready`` once listening; when its stdin closes, prints the cuts and connections as JSON and exits.
"""

from __future__ import annotations

import json
import sys

from tests.support.proxy import CuttingProxy


def main(argv: list[str]) -> None:
    listen_host, first, count, target, lo, hi, seed = argv
    proxies = []
    for i in range(int(count)):
        port = int(first) + i
        proxy = CuttingProxy(target, port, listen=(listen_host, port)).start()
        proxy.cut_randomly(int(lo), int(hi), seed=int(seed) + i)
        proxies.append(proxy)
    print("ready", flush=True)
    sys.stdin.read()
    print(
        json.dumps({"cuts": sum(p.cuts for p in proxies), "connections": sum(p.connections for p in proxies)})
    )
    for proxy in proxies:
        proxy.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
