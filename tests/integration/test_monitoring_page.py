"""The monitoring page, loaded in a real headless Chromium while a session runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from remote_gym import ClientConfig, RemoteEnvironment
from remote_gym.monitoring.charts import HEIGHT
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT_COPY = "REMOTE_GYM_PAGE_SCREENSHOT"
"""When set, the screenshot is also written to this path (how README's picture is made)."""

BASELINE_Y = HEIGHT - 20
"""The charts' zero line (see remote_gym.monitoring.charts)."""
POLE = np.array([202, 152, 101])
"""CartPole's pole colour in its rgb_array frames."""


def chromium(url: str, profile: str, *flags: str) -> str:
    """Load ``url`` in headless Chromium (loopback only, fresh profile) and return what it printed."""
    return _chromium(url, profile, *flags).stdout


def _chromium(url: str, profile: str, *flags: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=3000",  # lets the page's timers run: it fetches its figures at once, then each second
        *flags,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def _wait_for_history(url: str, samples: int = 3) -> None:
    """Wait until the server's history has ``samples`` intervals (the charts' lines have that many points)."""
    deadline = time.monotonic() + 30
    while json.loads(urllib.request.urlopen(url + "charts.json", timeout=10).read())["samples"] < samples:
        assert time.monotonic() < deadline, "the server's history took no sample"
        time.sleep(0.5)


def _stepping(env: RemoteEnvironment, stop: threading.Event) -> threading.Thread:
    """A thread stepping ``env`` (resetting at episode ends) until ``stop`` is set."""

    def play() -> None:
        env.reset(seed=0)
        while not stop.is_set():
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()

    thread = threading.Thread(target=play)
    thread.start()
    return thread


@pytest.fixture
def stepping_session() -> Iterator[tuple[EnvServer, RemoteEnvironment]]:
    """A server with the page on, and a session rendering rgb_array frames that steps until the test ends."""
    stop = threading.Event()
    with (
        running_server(hosting="process", web_port=0, same_host_lane=False) as server,
        RemoteEnvironment(address=server.address, render_mode="rgb_array") as env,
    ):
        thread = _stepping(env, stop)
        try:
            yield server, env
        finally:
            stop.set()
            thread.join()


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
)
def test_page_shows_the_running_session_and_its_frame(
    stepping_session: tuple[EnvServer, RemoteEnvironment], tmp_path: os.PathLike[str]
) -> None:
    """The page lists the session with a moving step counter, and its screenshot shows the frame thumbnail."""
    server, env = stepping_session
    assert server.web_endpoint is not None
    url = server.web_endpoint.url
    row = re.compile(rf'<tr id="session-{env.session_id}" data-steps="(\d+)"')
    steps = []
    for i in range(2):
        dom = chromium(url, f"{tmp_path}/profile-{i}", "--dump-dom")
        match = row.search(dom)
        assert match, dom
        steps.append(int(match.group(1)))
        assert f'src="frame/{env.session_id}.png' in dom
    assert 0 < steps[0] < steps[1]

    _wait_for_history(url)  # the screenshot (README's picture) shows charts with lines
    screenshot = f"{tmp_path}/page.png"
    chromium(url, f"{tmp_path}/profile-shot", "--window-size=1800,640", f"--screenshot={screenshot}")
    from PIL import Image

    pixels = np.asarray(Image.open(screenshot).convert("RGB")).astype(int)
    pole = np.abs(pixels - POLE).sum(axis=-1) < 40
    assert pole.sum() > 20, "the frame thumbnail shows no pole"
    if os.environ.get(SCREENSHOT_COPY):
        shutil.copyfile(screenshot, os.environ[SCREENSHOT_COPY])


def test_page_is_read_only_and_on_loopback(stepping_session: tuple[EnvServer, RemoteEnvironment]) -> None:
    """The page answers GET only, binds loopback, and has no frame for an unknown session."""
    import urllib.error
    import urllib.request

    server, _ = stepping_session
    assert server.web_endpoint is not None
    assert server.web_endpoint.host == "127.0.0.1"
    url = server.web_endpoint.url
    with pytest.raises(urllib.error.HTTPError, match="405"):
        urllib.request.urlopen(urllib.request.Request(url + "stats.json", data=b"{}"), timeout=10)
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(url + "frame/0123456789ab.png", timeout=10)


@pytest.fixture
def two_paths() -> Iterator[tuple[EnvServer, RemoteEnvironment, RemoteEnvironment]]:
    """A server with the page on, and two sessions stepping: one on the same-host lane, one through gRPC."""
    stop = threading.Event()
    with (
        running_server(hosting="process", web_port=0) as server,
        RemoteEnvironment(address=server.address) as lane,
        RemoteEnvironment(address=server.address, config=ClientConfig(same_host_lane=False)) as grpc,
    ):
        threads = [_stepping(lane, stop), _stepping(grpc, stop)]
        try:
            yield server, lane, grpc
        finally:
            stop.set()
            for thread in threads:
                thread.join()


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
)
def test_page_draws_its_charts_with_data_and_logs_nothing_to_the_console(
    two_paths: tuple[EnvServer, RemoteEnvironment, RemoteEnvironment], tmp_path: os.PathLike[str]
) -> None:
    """With a lane and a gRPC session stepping, every chart has lines of several points, each session
    its sparkline and its path, and the browser's console stays silent (no error, no warning)."""
    server, lane, grpc = two_paths
    assert server.web_endpoint is not None
    url = server.web_endpoint.url
    _wait_for_history(url)
    ran = _chromium(url, f"{tmp_path}/profile", "--dump-dom", "--enable-logging=stderr", "--v=0")
    dom = ran.stdout
    for chart in ("steps", "step-time", "sessions", "events", "memory"):
        svg = re.search(rf'<svg[^>]*id="chart-{chart}".*?</svg>', dom, re.S)
        assert svg, f"chart {chart} missing"
        counts = [int(n) for n in re.findall(r'data-points="(\d+)"', svg.group(0))]
        assert counts, f"chart {chart} has no line"
        assert min(counts) >= 2, f"chart {chart} has too few points"
    steps_line = re.search(r'id="chart-steps".*?\spoints="([^"]+)"', dom, re.S)
    assert steps_line
    heights = [float(xy.split(",")[1]) for xy in steps_line.group(1).split()]
    assert min(heights) < BASELINE_Y - 10, "steps/s drawn flat at zero"
    for env, path in ((lane, "lane"), (grpc, "grpc")):
        row = re.search(rf'<tr id="session-{env.session_id}".*?</tr>', dom, re.S)
        assert row, dom
        assert f'<td class="text path">{path}</td>' in row.group(0)
        assert f'id="spark-{env.session_id}"' in row.group(0)
    console = [line for line in ran.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
