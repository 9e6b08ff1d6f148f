"""The network lane across two network namespaces: servers in one, the trainer in the other.

The namespaces are joined by a veth pair, so every lane is a real non-loopback TCP connection. One
trainer process checks, against local envs: TLS and mTLS lanes, single and vector sessions in every
autoreset mode, a vector env over a lane host and a gRPC-only host, opting out; a wrong secret, a
replayed one, garbage, slow-loris connections; and sessions whose lane a proxy cuts at random points
(and which open it again).
Needs root and iproute2.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from remote_gym.transport.certs import generate_dev_certs
from tests.support.netns import NetnsPair, NetnsUnavailable, netns_available, veth_pair

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not netns_available(), reason="needs root and iproute2"),
]

ROOT = pathlib.Path(__file__).resolve().parents[2]
PORTS = {"tls": 50061, "mtls": 50062, "plain": 50063, "grpc": 50064, "cut": 50065}
CUT_LANE_PORTS = (41100, 4)
"""First port and count of the lanes the cutting proxies stand before."""
CUT_SESSIONS = 6


@pytest.fixture(scope="module")
def pair() -> Iterator[NetnsPair]:
    try:
        with veth_pair("rg-net") as made:
            yield made
    except NetnsUnavailable as exc:
        pytest.skip(f"cannot make network namespaces here: {exc}")


def _serve(pair: NetnsPair, name: str, extra: list[str], log: pathlib.Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "remote_gym", "serve", "CartPole-v1", "--host", pair.a_ip]
    command += ["--port", str(PORTS[name]), "--hosting", "process", *extra]
    with log.open("w") as stderr:  # the server keeps its own copy of the file
        return pair.popen(pair.a, *command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)


def _wait_listening(pair: NetnsPair, ports: list[int], timeout: float = 120.0) -> None:
    """Until every one of ``ports`` listens in the servers' namespace (gRPC listens on a dual-stack socket)."""
    deadline = time.monotonic() + timeout
    wanted = {f"{port:04X}" for port in ports}
    while True:
        out = subprocess.run(
            ["ip", "netns", "exec", pair.a, "cat", "/proc/net/tcp", "/proc/net/tcp6"],
            capture_output=True,
            text=True,
        )
        rows = [line.split() for line in out.stdout.splitlines()]
        listening = {row[1].rsplit(":", 1)[1] for row in rows if len(row) > 3 and row[3] == "0A"}
        if wanted <= listening:
            return
        assert time.monotonic() < deadline, f"servers not listening: {wanted - listening}"
        time.sleep(0.2)


def test_network_lane_across_namespaces(pair: NetnsPair, tmp_path: pathlib.Path) -> None:
    certs = generate_dev_certs(tmp_path / "tls", ip_addresses=(pair.a_ip,))
    tls = ["--cert", str(certs.server_cert), "--key", str(certs.server_key)]
    first, count = CUT_LANE_PORTS
    logs = {name: tmp_path / f"{name}.log" for name in PORTS}
    lane = ["--network-lane", f"{pair.a_ip}:41000-41009"]
    servers = [
        _serve(pair, "tls", [*tls, *lane], logs["tls"]),
        _serve(  # spawned workers (the default off Linux) build their TLS context themselves
            pair,
            "mtls",
            [
                *tls,
                "--ca",
                str(certs.ca),
                "--network-lane",
                f"{pair.a_ip}:41010-41019",
                "--worker-start",
                "spawn",
            ],
            logs["mtls"],
        ),
        _serve(pair, "plain", ["--network-lane", pair.a_ip, "--network-lane-plaintext"], logs["plain"]),
        _serve(pair, "grpc", [], logs["grpc"]),
        # Workers listen on loopback; the proxies, on the announced address, forward there (as a NAT would).
        _serve(
            pair,
            "cut",
            [
                "--network-lane",
                f"{pair.a_ip}:{first}-{first + count - 1}",
                "--network-lane-plaintext",
                "--network-lane-bind",
                "127.0.0.1",
            ],
            logs["cut"],
        ),
    ]
    relay = pair.popen(
        pair.a,
        *(sys.executable, "-m", "tests.support.cutting_relay", pair.a_ip, str(first), str(count)),
        *("127.0.0.1", "1", "30", "7"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert relay.stdout is not None
        assert relay.stdout.readline().strip() == "ready"
        _wait_listening(pair, list(PORTS.values()))
        addresses = {name: f"{pair.a_ip}:{port}" for name, port in PORTS.items()}
        trainer = pair.popen(
            pair.b,
            *(sys.executable, "-m", "tests.support.netlane_trainer", json.dumps(addresses)),
            *(str(certs.ca.parent), str(CUT_SESSIONS)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        out, err = trainer.communicate(timeout=200)
        assert trainer.returncode == 0, err[-6000:]
        found = json.loads(out.strip().splitlines()[-1])
        relay_out, _ = relay.communicate("", timeout=10)
        proxied = json.loads(relay_out.strip().splitlines()[-1])
    finally:
        for process in (*servers, relay):
            process.terminate()
        for process in (*servers, relay):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    print(f"\nnetwork lane across namespaces: {json.dumps(found)}; proxy: {proxied}")
    # TLS: steps on the network lane, seen as such by top; opting out stays on gRPC.
    assert found["tls_path"] == "network-lane"
    assert found["tls_offer"] == f"tls:{pair.a_ip}"
    assert found["top_paths"] == ["network-lane"]
    assert (found["tls_other_ca"], found["tls_other_name"]) == ("unverified", "unverified")
    assert found["opted_out"] == "grpc"
    for mode in ("NextStep", "SameStep", "Disabled"):
        assert found[f"vector_{mode}"] == ["network-lane"]
    assert found["mixed"] == ["grpc", "network-lane"]
    # mTLS: a client with its certificate steps on the lane; without one it is refused.
    assert found["mtls_path"] == "network-lane"
    assert found["mtls_no_client_cert"] == ""
    # Refusals: wrong, garbage, replayed; slow-loris connections closed within the deadline.
    assert found["plain_path"] == "network-lane"
    assert (found["wrong"], found["garbage"], found["replay"], found["right"]) == ("", "", "", True)
    closed = sorted(found["silent_closed_after_s"])  # 2 over the limit of 8 waiting: refused at once
    assert None not in closed, closed
    assert closed[1] < 1.5, closed
    assert closed[2] >= 1.9, closed  # the others: once their 2 s deadline passed
    assert closed[-1] < 4.5, closed
    assert found["slowest_step_s"] < 0.5, found["slowest_step_s"]
    plain_log = logs["plain"].read_text()
    for why in ("wrong secret", "its secret was used already", "no secret within", "FrameTooLargeError"):
        assert f"lane connection refused ({why}" in plain_log, plain_log[-3000:]
    assert "others are in their handshake" in plain_log
    mtls_log = logs["mtls"].read_text()
    assert "lane connection refused (" in mtls_log, mtls_log[-3000:]
    # Cuts: every session gave the local trajectory (checked by the trainer) and none was lost.
    ends = found["cut_sessions"]
    assert sum(ends.values()) == CUT_SESSIONS + 1
    # Cut lanes were opened again (each time with a new secret), and cut again.
    assert proxied["cuts"] > CUT_SESSIONS, proxied
    assert proxied["connections"] > CUT_SESSIONS + 1, proxied
