"""`remote-gym top` and `serve --log-format json --metrics-port`, run in-process against real servers."""

from __future__ import annotations

import json
import re
import socket
import urllib.request

import pytest

from remote_gym import RemoteVectorEnv
from remote_gym.cli.main import main
from remote_gym.client.env import RemoteEnvironment
from remote_gym.testing.server import running_server
from tests.cli.helpers import run_cli, serve_in_process

pytestmark = pytest.mark.integration


def test_top_once_shows_a_running_session() -> None:
    """`top --once` prints the totals and a row with the session's id, env and exact step count."""
    with (
        running_server(hosting="process", same_host_lane=False) as server,
        RemoteEnvironment(address=server.address) as env,
    ):
        env.reset(seed=0)
        for _ in range(7):
            env.step(0)
        code, out = run_cli("top", server.address, "--once")
        session_id = env.session_id
    assert code == 0, out
    assert f"remote-gym {env.server_version} at {server.address}" in out
    [row] = [line for line in out.splitlines() if session_id in line]
    cells = dict(zip(_cells(_header(out)), _cells(row), strict=True))
    assert cells["env"] == "CartPole-v1"
    assert cells["path"] == "grpc"
    assert cells["steps"] == "7"
    assert cells["state"] == "attached"
    assert re.fullmatch(r"\d+(\.\d)?M", cells["mem"])
    assert re.fullmatch(r"\d+\.\d\dms", cells["p50"])
    assert "sessions open 1" in out


@pytest.mark.parametrize("width", [80, 120, 160])
def test_top_fits_the_terminal_and_keeps_env_and_state_whole(width: int) -> None:
    """At 80 columns `top` drops columns and shortens ids but shows env and state in full; from 120, every
    column, nothing cut."""
    import io

    from rich.console import Console

    from remote_gym.cli.top import COLUMNS, SHORT_ID

    with (
        running_server(hosting="process") as server,
        RemoteVectorEnv("CartPole-v1", 4, address=server.address) as envs,
    ):
        envs.reset(seed=0)
        envs.step(envs.action_space.sample())
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
        code = main(["top", server.address, "--once"], console=console)
        out = buffer.getvalue()
    assert code == 0, out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, out
    assert "…" not in out, out
    row = dict(zip(_cells(_header(out)), _cells(next(line for line in lines if "×4" in line)), strict=True))
    assert row["env"] == "CartPole-v1 ×4"
    assert row["state"] == "attached"
    columns = {name for name, _, _ in COLUMNS} - {"host"}  # a hub's column
    if width >= 120:
        assert set(row) == columns
        assert row["path"] == "lane"
        assert len(row["session"]) == 12  # whole
    else:
        assert {"session", "env", "state", "steps/s", "p99"} <= set(row) < columns
        assert len(row["session"]) == SHORT_ID


def _header(out: str) -> str:
    """The line above the session table's rule."""
    lines = out.splitlines()
    return next(lines[i - 1] for i, line in enumerate(lines) if line.startswith("───"))


def _cells(line: str) -> list[str]:
    """The cells of a line of `top`'s table (columns are two spaces apart or more; no cell holds two)."""
    return re.split(r"\s{2,}", line.strip())


def test_top_reports_an_unreachable_server() -> None:
    """`top` against a port nobody listens on fails with exit code 1 and a connect error."""
    code, out = run_cli("top", "127.0.0.1:1", "--once", "--connect-timeout", "1")
    assert code == 1
    assert "cannot connect" in out


def test_serve_logs_json_events_and_serves_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --log-format json` logs one JSON object per event, with the metrics' label names."""
    metrics_port = free_port()
    argv = ["serve", "CartPole-v1", "--port", "0", "--hosting", "in-process", "--grace", "0.5"]
    argv += ["--log-format", "json", "--metrics-port", str(metrics_port)]
    scraped: list[bytes] = []

    def use(address: str) -> None:
        with RemoteEnvironment(address=address) as env:
            env.reset(seed=0)
            env.step(0)
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        scraped.append(urllib.request.urlopen(url, timeout=10).read())

    code, out, errors = serve_in_process(lambda console: main(argv, console=console), use)
    assert not errors, errors
    assert code == 0, out
    assert f"metrics: http://127.0.0.1:{metrics_port}/metrics" in out
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    opened = [e for e in events if e.get("event") == "session_opened"]
    closed = [e for e in events if e.get("event") == "session_closed"]
    assert len(opened) == 1
    assert opened[0]["env"] == "CartPole-v1"
    assert closed[0]["reason"] == "closed"
    assert closed[0]["session_id"] == opened[0]["session_id"]
    assert {"time", "level", "logger", "message"} <= set(closed[0])
    assert b'remote_gym_steps_total{env="CartPole-v1"} 1.0' in scraped[0]


def free_port() -> int:
    """A loopback port free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
