"""Every fenced Python example of the site and README runs against a real local server (tests/docs/examples.py)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests.docs.examples import PAGES, ROOT, Example, examples, page_run, shared_servers

pytestmark = pytest.mark.integration

RUNNABLE = [page for page in PAGES if any(not block.needs for block in examples(page))]
NEEDING = [block for page in PAGES for block in examples(page) if block.needs]


def _id(page: pathlib.Path) -> str:
    return page.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """The servers of the pages that have none of their own."""
    with shared_servers(tmp_path_factory.mktemp("shared")) as ports:
        yield ports


@pytest.mark.parametrize("page", RUNNABLE, ids=_id)
def test_page_examples_run(page: pathlib.Path, tmp_path: pathlib.Path, shared: dict[str, int]) -> None:
    """The page's examples run in order and exit 0; its servers serve its clients."""
    with page_run(page, tmp_path, shared) as run:
        run.run()


@pytest.mark.parametrize("block", NEEDING, ids=lambda b: f"{_id(b.page)}:{b.line}")
def test_example_needing_what_ci_lacks(block: Example) -> None:
    """An example marked `# needs: ...` is skipped, saying what it needs; it still compiles."""
    compile(block.code, f"{block.page}:{block.line}", "exec")
    pytest.skip(f"needs {block.needs}")


def test_the_runner_finds_the_examples() -> None:
    """The pages hold examples of each kind the runner knows: files, servers, clients, marked ones."""
    blocks = [block for page in PAGES for block in examples(page)]
    assert any(block.file_name for block in blocks)
    assert any(block.is_server for block in blocks)
    assert any(not (block.file_name or block.is_server or block.needs) for block in blocks)
    assert NEEDING
