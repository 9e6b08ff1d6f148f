"""``dns:NAME:PORT`` addresses expand to one host per address record of NAME."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from remote_gym.client.vector_args import expand_addresses
from remote_gym.errors import ConnectError

# Run in a private mount and network namespace, where /etc/hosts is a file of ours that gives one
# name both loopback addresses (IPv4 and IPv6), as a Kubernetes headless Service does for its pods.
_SCRIPT = textwrap.dedent(
    """
    from remote_gym import EnvServer, RemoteVectorEnv, ServerConfig, make_entry
    from remote_gym.testing.server import running_server

    with running_server(host="127.0.0.1") as first:
        entries = (make_entry("CartPole-v1", gym_id="CartPole-v1"),)
        with EnvServer(ServerConfig(environments=entries, host="::1", port=first.port)).start():
            address = f"dns:envs.test:{first.port}"
            with RemoteVectorEnv("CartPole-v1", 4, address=address) as envs:
                envs.reset(seed=0)
                envs.step(envs.action_space.sample())
                print(sorted(envs.hosts))
    """
)
_ENTER = 'mount --bind "$1" /etc/hosts && ip link set lo up && exec "$0" -c "$2"'


def test_dns_address_expands_to_every_record(tmp_path: pathlib.Path) -> None:
    """A name with two address records gives a vector env over both servers, one host each."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost envs.test\n::1 localhost envs.test\n")
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True, timeout=20)
    if probe.returncode != 0:
        pytest.skip("a private /etc/hosts needs mount and network namespaces (unshare as root)")
    proc = subprocess.run(
        ["unshare", "--mount", "--net", "--", "sh", "-c", _ENTER, sys.executable, str(hosts), _SCRIPT],
        capture_output=True,
        text=True,
        timeout=90,
        env=os.environ,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    port = proc.stdout.strip().split(":")[-1].strip("']")
    assert proc.stdout.strip() == str(sorted([f"127.0.0.1:{port}", f"[::1]:{port}"]))


def test_dns_address_of_localhost_resolves() -> None:
    """``dns:localhost:PORT`` gives loopback addresses with the port."""
    addresses = expand_addresses(["dns:localhost:5000", "10.0.0.1:7"])
    assert addresses[-1] == "10.0.0.1:7"
    assert addresses[:-1]
    assert set(addresses[:-1]) <= {"127.0.0.1:5000", "[::1]:5000"}


def test_dns_address_that_does_not_resolve() -> None:
    """An unknown name or a missing port raises ConnectError naming the address."""
    with pytest.raises(ConnectError, match="not dns:NAME:PORT"):
        expand_addresses("dns:envs")
    with pytest.raises(ConnectError, match="cannot resolve"):
        expand_addresses("dns:no-such-host.invalid:5000")
