"""A hub with hosts dialing it, for tests: real gRPC, real worker processes, on loopback."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

from remote_gym.hub import Hub, HubConfig
from remote_gym.server.config import ServerConfig
from remote_gym.server.registry import make_entry
from remote_gym.server.server import EnvServer
from remote_gym.transport.auth import TokenAuth

HOST_TOKEN = "hub-test-host-token"


def dialing_host(
    hub_address: str | Sequence[str], name: str, envs: Sequence[str] = ("CartPole-v1",), **options: Any
) -> EnvServer:
    """A started host that dials ``hub_address`` (one or several hubs) as ``name``."""
    hubs = (hub_address,) if isinstance(hub_address, str) else tuple(hub_address)
    options.setdefault("dial_token", HOST_TOKEN)
    entries = tuple(make_entry(env, gym_id=env, allowed_kwargs="*") for env in envs)
    config = ServerConfig(environments=entries, dial=hubs, dial_name=name, **options)
    return EnvServer(config).start()


def wait_for_hosts(hub: Hub, names: Sequence[str], timeout: float = 20.0, *, state: str = "attached") -> None:
    """Wait until every host of ``names`` is in ``state`` at ``hub``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = {h.name: h.state for h in hub.info().hub_hosts}
        if all(states.get(name) == state for name in names):
            return
        time.sleep(0.02)
    raise AssertionError(f"hosts {list(names)} not {state} within {timeout} s: {states}")


@contextlib.contextmanager
def hub_with_hosts(
    names: Sequence[str] = ("alpha", "beta"), envs: Sequence[str] = ("CartPole-v1",), **hub_options: Any
) -> Iterator[tuple[Hub, list[EnvServer]]]:
    """A loopback hub and started hosts named ``names``, all attached; stopped afterwards."""
    hub_options.setdefault("host_tokens", (TokenAuth(HOST_TOKEN),))
    hub = Hub(HubConfig(port=0, **hub_options)).start()
    hosts: list[EnvServer] = []
    try:
        for name in names:
            hosts.append(dialing_host(hub.address, name, envs))
        wait_for_hosts(hub, names)
        yield hub, hosts
    finally:
        for host in hosts:
            host.stop(0.5)
        hub.stop(0.5)
