"""Hosts that can only dial out: hub and trainer in one network namespace, two hosts in another.

The namespaces are joined by a veth pair with link-local addresses, and the hub's side has no route
to a listener of the hosts' side: nothing but the hosts dialing out can work. Needs root and ``ip``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from remote_gym.transport.certs import CertPaths, generate_dev_certs
from tests.support.netns import NetnsUnavailable, netns_available, veth_pair

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(420),
    pytest.mark.skipif(not netns_available(), reason="needs root and iproute2"),
]

HOST_TOKEN = "netns-host-token"
HUB_PORT = 56766


@pytest.fixture(scope="module")
def namespaces() -> Iterator[tuple[str, str, str]]:
    """(hub namespace, hosts namespace, the hub's address) joined by a veth pair; deleted afterwards."""
    try:
        with veth_pair("rg-hub") as pair:
            yield pair.a, pair.b, pair.a_ip
    except NetnsUnavailable as exc:
        pytest.skip(f"cannot make network namespaces here: {exc}")


def _in(ns: str, *command: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(["ip", "netns", "exec", ns, *command], text=True, **kwargs)  # type: ignore[call-overload]


TRAINER = textwrap.dedent(
    """
    import json, sys, time
    import gymnasium as gym, numpy as np
    from gymnasium.utils.env_checker import data_equivalence
    from gymnasium.vector import AutoresetMode, SyncVectorEnv
    from remote_gym import RemoteEnvironment, RemoteVectorEnv, TLSConfig, server_info
    from remote_gym.client.stats import StatsClient

    hub, ca = sys.argv[1], sys.argv[2]
    tls = TLSConfig(ca=ca)
    deadline = time.monotonic() + 150
    while True:
        info = server_info(hub, tls=tls)
        if sorted(h.name for h in info.hosts if h.state == "attached") == ["east", "west"]:
            break
        assert time.monotonic() < deadline, info
        time.sleep(0.2)
    checked = {}
    for pin in (None, "east", "west"):
        local = gym.make("CartPole-v1")
        with RemoteEnvironment(address=hub, env="CartPole-v1", tls=tls, host=pin) as remote:
            assert data_equivalence(remote.reset(seed=4), local.reset(seed=4), exact=True)
            for i in range(200):
                expected = local.step(i % 2)
                assert data_equivalence(remote.step(i % 2), expected, exact=True)
                if expected[2] or expected[3]:
                    assert data_equivalence(remote.reset(seed=i), local.reset(seed=i), exact=True)
            checked[str(pin)] = remote.unwrapped._connection.path
            with StatsClient(hub, tls=tls) as stats:
                checked[f"{pin} hop"] = [row.path for row in stats.fetch().sessions]
    for mode in AutoresetMode:
        local = SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 6, autoreset_mode=mode)
        with RemoteVectorEnv("CartPole-v1", 6, address=hub, tls=tls, autoreset_mode=mode) as remote:
            spread = {h.name: h.active_sessions for h in server_info(hub, tls=tls).hosts}
            assert spread == {"east": 1, "west": 1}, spread
            assert data_equivalence(remote.reset(seed=9), local.reset(seed=9), exact=True)
            rng = np.random.default_rng(0)
            for _ in range(80):
                actions = rng.integers(0, 2, size=6)
                expected = local.step(actions)
                assert data_equivalence(remote.step(actions), expected, exact=True)
                done = expected[2] | expected[3]
                if mode is AutoresetMode.DISABLED and done.any():
                    options = {"reset_mask": done}
                    assert data_equivalence(remote.reset(options=options), local.reset(options=options), exact=True)
        checked[mode.value] = "ok"
    print(json.dumps(checked))
    """
)


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        fds = list(pathlib.Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process (a session's worker) ended meanwhile
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _descendants(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            kids = [
                int(k) for k in pathlib.Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            ]
        except OSError:
            continue
        found += kids
        frontier += kids
    return found


def _listeners(pid: int) -> list[tuple[str, str]]:
    """(local address hex, inode) of every TCP socket in LISTEN state in ``pid``'s network namespace."""
    rows = []
    for table in ("tcp", "tcp6"):
        lines = pathlib.Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                rows.append((fields[1], fields[9]))
    return rows


def _is_loopback(hex_address: str) -> bool:
    host = hex_address.split(":")[0]
    if len(host) == 8:  # IPv4, little-endian: 127.x.y.z ends with 7F
        return host.endswith("7F")
    return host in ("00000000000000000000000001000000", "0000000000000000FFFF00000100007F")


def test_hosts_behind_a_wall_serve_through_the_hub(
    namespaces: tuple[str, str, str], tmp_path: pathlib.Path
) -> None:
    hub_ns, hosts_ns, hub_ip = namespaces
    certs: CertPaths = generate_dev_certs(tmp_path / "tls", ip_addresses=(hub_ip,))
    hub_address = f"{hub_ip}:{HUB_PORT}"
    environ = {**os.environ, "REMOTE_GYM_HOST_TOKEN": HOST_TOKEN}
    python = sys.executable
    quiet = {"env": environ, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    hub_command = ["hub", "--host", hub_ip, "--port", str(HUB_PORT)]
    hub_command += ["--cert", str(certs.server_cert), "--key", str(certs.server_key)]
    hub = _in(hub_ns, python, "-m", "remote_gym", *hub_command, **quiet)
    hosts = []
    for name in ("east", "west"):
        host_command = [
            "serve",
            "CartPole-v1",
            "--dial",
            hub_address,
            "--name",
            name,
            "--dial-ca",
            str(certs.ca),
        ]
        hosts.append(_in(hosts_ns, python, "-m", "remote_gym", *host_command, **quiet))
    try:
        script = tmp_path / "trainer.py"
        script.write_text(TRAINER)
        trainer = _in(
            hub_ns,
            python,
            str(script),
            hub_address,
            str(certs.ca),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = trainer.communicate(timeout=360)
        assert trainer.returncode == 0, err[-5000:]
        checked = json.loads(out.strip().splitlines()[-1])
        print(f"\nthrough the hub across namespaces: {checked}")
        pins = ("None", "east", "west")
        assert set(checked) == {*pins, *(f"{pin} hop" for pin in pins), "NextStep", "SameStep", "Disabled"}
        assert checked["east"] == "grpc"  # another machine (namespace): no same-host lane
        # Each session's worker opened its own TLS frame stream to the hub's frames port (the gRPC
        # port + 1), and every request after the make crossed it: the worker lane of a dialing host.
        assert all(checked[f"{pin} hop"] == ["hub-lane"] for pin in pins), checked
        # Nothing of the hosts listens on an address another machine could reach.
        for host in hosts:
            pids = _descendants(host.pid)
            inodes = set().union(
                *(_socket_inodes(pid) for pid in pids if pathlib.Path(f"/proc/{pid}").exists())
            )
            assert inodes, "a dialing host holds sockets (its links to the hub)"
            listening = [(address, inode) for address, inode in _listeners(host.pid) if inode in inodes]
            assert all(_is_loopback(address) for address, _ in listening), listening
        assert all(_is_loopback(address) for address, _ in _listeners(hosts[0].pid))  # none in the namespace
    finally:
        for process in (*hosts, hub):
            process.terminate()
        for process in (*hosts, hub):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
