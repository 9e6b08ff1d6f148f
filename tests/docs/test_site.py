"""The documentation site builds strictly, documents every public name, and renders in a real browser."""

from __future__ import annotations

import html
import io
import os
import pathlib
import re
import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from remote_gym import __version__
from scripts import docs_hooks
from tests.docs.site import CHROMIUM, ROOT, build, serving, visit

SCREENSHOTS = "REMOTE_GYM_SITE_SCREENSHOTS"
"""When set, a directory the browser test copies its screenshots to (to look at them)."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pathlib.Path]:
    """The site, built with warnings as errors."""
    out = tmp_path_factory.mktemp("site")
    result = build(out)
    assert result.returncode == 0, result.stderr
    return out


def _page(site: pathlib.Path, uri: str) -> str:
    return (site / uri / "index.html").read_text()


@pytest.mark.parametrize("module", docs_hooks.API_MODULES)
def test_api_reference_documents_every_public_name(site: pathlib.Path, module: str) -> None:
    """Each name of the module's __all__ has its section in the API reference, with its docstring."""
    page = _page(site, docs_hooks.api_page_path(module).removesuffix(".md"))
    for name in docs_hooks.public_names(module):
        heading = re.search(rf"<h2 id=\"[^\"]+\"><code>{re.escape(module)}\.{re.escape(name)}</code>", page)
        assert heading, f"{module}.{name} has no section"
        section = page[heading.end() :].split("<h2 ", 1)[0]
        assert 'class="doc doc-contents' in section, f"{module}.{name} has no documentation"


def test_every_public_name_has_a_docstring() -> None:
    """The check that fails the build: no name of the API modules' __all__ lacks a docstring."""
    assert docs_hooks.missing_docstrings() == []
    assert "RemoteEnvironment" in docs_hooks.public_names("remote_gym")


def test_site_shows_its_release_and_changelog(site: pathlib.Path) -> None:
    """The site's name carries the release; the changelog page holds CHANGELOG.md when there is one."""
    assert f"remote-gym {__version__}" in _page(site, ".")
    changelog = _page(site, "changelog")
    if (ROOT / "CHANGELOG.md").exists():
        first = next(
            line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("#")
        )
        assert html.escape(first.lstrip("# ").strip()) in changelog
    else:
        assert "no CHANGELOG.md" in changelog


def test_cli_reference_has_every_command(site: pathlib.Path) -> None:
    """The command-line reference shows the help of every command and of the 0.7.x commands."""
    from remote_gym.cli.main import build_parser

    page = _page(site, "reference/cli")
    [commands] = [a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name in commands.choices:
        if name != "play":  # an alias of interact, shown in its help
            assert f"<code>remote-gym {name}</code>" in page, name
    assert "<code>start_remote_environment</code>" in page
    assert "--max-sessions" in page


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
)
@pytest.mark.parametrize("uri", ["", "reference/api/remote_gym/", "benchmarks/"])
def test_page_renders_in_chromium(site: pathlib.Path, uri: str, tmp_path: pathlib.Path) -> None:
    """The page loads in headless Chromium with every image fetched and valid, and no console error."""
    from PIL import Image

    with serving(site) as (base, served):
        shown = visit(base + uri, tmp_path / "profile", tmp_path / "page.png")
    assert shown.console_errors == []
    assert [request for request in served if request[1] >= 400] == []
    images = re.findall(r"<img [^>]*src=\"([^\"]+)\"", shown.dom)
    if uri in ("", "benchmarks/"):
        assert images, "the page shows no image"
    fetched = {path for path, status in served if status in (200, 304)}
    for src in images:
        path = "/" + os.path.normpath(os.path.join(uri, src)).lstrip("./")
        assert path in fetched, f"{src} was not loaded ({sorted(fetched)})"
        with Image.open(io.BytesIO((site / path.lstrip("/")).read_bytes())) as image:
            assert image.size[0] > 100
            assert image.size[1] > 100
    with Image.open(shown.screenshot) as screenshot:
        assert len(np.unique(np.asarray(screenshot.convert("L")))) > 10, "the screenshot is blank"
    if os.environ.get(SCREENSHOTS):
        name = (uri.strip("/").replace("/", "-") or "index") + ".png"
        shutil.copyfile(shown.screenshot, pathlib.Path(os.environ[SCREENSHOTS]) / name)


def test_a_guide_missing_from_the_nav_joins_the_guides(tmp_path: pathlib.Path) -> None:
    """A page added under docs/guides/ without a nav entry appears in the Guides section, after the named ones."""
    (tmp_path / "guides").mkdir()
    for name in ("named.md", "added.md"):
        (tmp_path / "guides" / name).write_text("# x\n")
    nav = [{"Home": "index.md"}, {"Guides": ["guides/named.md"]}]
    config = docs_hooks.on_config({"docs_dir": str(tmp_path), "nav": nav, "site_name": "x"})
    assert config["nav"][1] == {"Guides": ["guides/named.md", "guides/added.md"]}
    assert config["site_name"] == f"remote-gym {__version__}"


def test_changelog_links_work_from_the_site() -> None:
    """CHANGELOG.md's links to docs/ pages point at the site's pages; links to other files become text."""
    text = "See [the TLS guide](docs/guides/tls.md), [code](src/remote_gym/x.py), [#1](https://e.org/1), [top](#a)."
    assert docs_hooks.site_relative(text) == (
        "See [the TLS guide](guides/tls.md), `code`, [#1](https://e.org/1), [top](#a)."
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
)
def test_the_browser_check_sees_errors(tmp_path: pathlib.Path) -> None:
    """The harness itself: a script error reaches console_errors and a missing image shows as a 404."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(
        '<html><body><img src="missing.png"><script>notDefinedAnywhere();</script></body></html>'
    )
    with serving(tmp_path / "site") as (base, served):
        shown = visit(base, tmp_path / "profile", tmp_path / "page.png")
    assert any("notDefinedAnywhere" in line for line in shown.console_errors), shown.console_errors
    assert ("/missing.png", 404) in served
