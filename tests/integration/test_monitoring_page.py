"""The monitoring page, loaded in a real headless Chromium while a session runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from remote_gym import RemoteEnvironment
from remote_gym.server.server import EnvServer
from remote_gym.testing.server import running_server

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT_COPY = "REMOTE_GYM_PAGE_SCREENSHOT"
"""When set, the screenshot is also written to this path (how README's picture is made)."""

POLE = np.array([202, 152, 101])
"""CartPole's pole colour in its rgb_array frames."""


def chromium(url: str, profile: str, *flags: str) -> str:
    """Load ``url`` in headless Chromium (loopback only, fresh profile) and return what it printed."""
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
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.fixture
def stepping_session() -> Iterator[tuple[EnvServer, RemoteEnvironment]]:
    """A server with the page on, and a session rendering rgb_array frames that steps until the test ends."""
    stop = threading.Event()
    with (
        running_server(hosting="process", web_port=0, same_host_lane=False) as server,
        RemoteEnvironment(address=server.address, render_mode="rgb_array") as env,
    ):

        def play() -> None:
            env.reset(seed=0)
            while not stop.is_set():
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                if terminated or truncated:
                    env.reset()

        thread = threading.Thread(target=play)
        thread.start()
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

    screenshot = f"{tmp_path}/page.png"
    chromium(url, f"{tmp_path}/profile-shot", "--window-size=1400,300", f"--screenshot={screenshot}")
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
