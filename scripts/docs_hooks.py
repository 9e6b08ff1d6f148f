"""MkDocs hooks of the documentation site (mkdocs.yml): the pages generated from the code.

- ``reference/api/*.md``: one page per module of ``API_MODULES``, one ``:::`` block (mkdocstrings) per
  name of that module's ``__all__``, read when the site builds; a name without a docstring is a warning,
  so the strict build fails on it.
- ``reference/cli.md``: every command of ``remote-gym``, from the argparse parsers' own help.
- ``changelog.md``: the repository's CHANGELOG.md, when there is one.
- The release: the site's name carries ``remote_gym.__version__``.
- Guides: a page under ``docs/guides/`` that mkdocs.yml's nav does not name joins the nav's "Guides"
  section by itself (after the named ones, in file-name order).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pathlib
import re
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
API_MODULES = ("remote_gym", "remote_gym.client", "remote_gym.server")
GUIDES_SECTION = "Guides"
log = logging.getLogger("mkdocs.plugins.remote_gym")


def public_names(module_name: str) -> list[str]:
    """The names of ``module_name.__all__`` (none when the module declares no ``__all__``)."""
    return list(getattr(importlib.import_module(module_name), "__all__", ()))


def api_page_path(module_name: str) -> str:
    """Where the API page of ``module_name`` lives in the site."""
    return f"reference/api/{module_name}.md"


def api_markdown(module_name: str) -> str:
    """The API reference page of one module: a mkdocstrings block per name of its ``__all__``."""
    module = importlib.import_module(module_name)
    names = public_names(module_name)
    summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
    lines = [f"# `{module_name}`", "", summary, ""]
    if not names:
        lines.append(f"`{module_name}` declares no public names (`__all__`) yet.")
    for name in names:
        lines += [
            f"## `{module_name}.{name}`",
            "",
            f"::: {module_name}.{name}",
            "    options:",
            "      show_root_heading: false",
            "      show_root_toc_entry: false",
            "",
        ]
    return "\n".join(lines) + "\n"


def missing_docstrings() -> list[str]:
    """Every ``module.name`` of the API modules' ``__all__`` whose object has no docstring."""
    import griffe

    package = griffe.load("remote_gym", search_paths=[str(ROOT / "src")], resolve_aliases=True)
    missing = []
    for module_name in API_MODULES:
        relative = module_name.removeprefix("remote_gym").lstrip(".")
        module = package[relative] if relative else package
        for name in public_names(module_name):
            target = module[name]
            docstring = target.docstring
            if docstring is None or not docstring.value.strip():
                missing.append(f"{module_name}.{name}")
    return missing


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:  # an alias (`play` for `interact`) shares its parser
                    seen.add(id(sub))
                    found[name] = sub
    return found


def _command_sections(parser: argparse.ArgumentParser, prog: str, depth: int) -> list[str]:
    lines = [f"{'#' * depth} `{prog}`", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, sub in _subparsers(parser).items():
        lines += _command_sections(sub, f"{prog} {name}", min(depth + 1, 4))
    return lines


def cli_markdown() -> str:
    """The command-line reference: each command's ``--help``, as argparse prints it, nested by command."""
    # The 0.7.x commands' parsers are private to their module; the reference shows them all the same.
    from remote_gym.cli.compat import _client_parser, _server_parser
    from remote_gym.cli.main import build_parser

    lines = [
        "# Command line",
        "",
        "Generated from the argument parsers when the site is built: what `--help` prints.",
        "",
    ]
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: the same page everywhere
    try:
        lines += _command_sections(build_parser(), "remote-gym", 2)
        lines += ["## The 0.7.x commands", ""]
        lines += _command_sections(_server_parser(), "start_remote_environment", 3)
        lines += _command_sections(_client_parser(), "start_environment_interaction", 3)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(lines) + "\n"


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def site_relative(markdown: str) -> str:
    """Links of a repository-root Markdown file, for a page at the site's root.

    ``docs/x.md`` becomes ``x.md``; a link to another file of the repository (not part of the site)
    becomes its text in code; URLs and anchors stay.
    """

    def fix(match: re.Match[str]) -> str:
        text, target = match.groups()
        if "://" in target or target.startswith(("#", "mailto:")):
            return match.group(0)
        if target.startswith("docs/"):
            return f"[{text}]({target.removeprefix('docs/')})"
        return text if text.startswith("`") else f"`{text}`"

    return _LINK.sub(fix, markdown)


def changelog_markdown() -> str | None:
    """The repository's CHANGELOG.md, its links made to work from the site, or None when it has none."""
    path = ROOT / "CHANGELOG.md"
    return site_relative(path.read_text()) if path.exists() else None


def _named_in(nav: Any) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_named_in(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_named_in(item) for item in nav.values())) if nav else set()
    return set()


def on_config(config: Any) -> Any:
    """Name the release in the site's name; add unnamed guides to the nav's Guides section."""
    from remote_gym import __version__

    config["site_name"] = f"remote-gym {__version__}"
    docs = pathlib.Path(config["docs_dir"])
    nav = config["nav"] or []
    named = _named_in(nav)
    for item in nav:
        if isinstance(item, dict) and GUIDES_SECTION in item:
            for page in sorted((docs / "guides").glob("*.md")):
                uri = page.relative_to(docs).as_posix()
                if uri not in named:
                    item[GUIDES_SECTION].append(uri)
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages, and warn (failing a strict build) for public names without docstrings."""
    from mkdocs.structure.files import File

    for module_name in API_MODULES:
        files.append(File.generated(config, api_page_path(module_name), content=api_markdown(module_name)))
    files.append(File.generated(config, "reference/cli.md", content=cli_markdown()))
    changelog = changelog_markdown()
    if changelog is None:
        changelog = "# Changelog\n\nThis release has no CHANGELOG.md yet.\n"
    files.append(File.generated(config, "changelog.md", content=changelog))
    for name in missing_docstrings():
        log.warning("public name without a docstring: %s", name)
    return files
