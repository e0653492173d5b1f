"""Shared fixtures: sample projects written by pytester, and the bundled example."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "websocket_migration"
CONTRACTS = REPO / "contracts"


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in {"__pycache__", ".pytest_cache"}}


@pytest.fixture
def example(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/websocket_migration with the repo's contracts/ beside it.

    The layout matches the repository (the example names ../../contracts), and
    the working directory is the example, as in the README's main command.
    """
    target = pytester.path / "examples" / "websocket_migration"
    shutil.copytree(EXAMPLE, target, ignore=_ignore)
    shutil.copytree(CONTRACTS, pytester.path / "contracts", ignore=_ignore)
    monkeypatch.chdir(target)
    return target


WriteFiles = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def write(pytester: pytest.Pytester) -> WriteFiles:
    """Write a sample project: {relative path: source}. Dedents each text."""

    def _write(files: Mapping[str, str]) -> Path:
        for name, text in files.items():
            path = pytester.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return pytester.path

    return _write
