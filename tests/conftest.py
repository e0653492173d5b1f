"""Shared fixtures: sample projects written by pytester, and the bundled example."""

from __future__ import annotations

import contextlib
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


@pytest.fixture(autouse=True)
def _lean_inner_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs do not need hypothesis' plugin, which re-imports hypothesis each time."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")


@pytest.fixture(autouse=True)
def _inner_runs_not_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs print pytest's short summary as on a developer's machine, in CI too.

    With CI or BUILD_NUMBER set, pytest prints a failure's whole message in the short
    summary instead of its first line, so tests counting our findings in the output
    would count them twice on CI only. A test about CI output sets them itself.
    """
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


@pytest.fixture(autouse=True)
def _preload_plugin_modules() -> None:
    """Import the heavy modules once, before pytester snapshots sys.modules.

    pytester's in-process runs drop every module a run imported. A package that
    stays loaded keeps attributes pointing at the dropped submodules, so the next
    run would mix two copies of import-linter's classes. Real runs import them
    once per process; loading them up front gives the tests the same.
    """
    import importlib
    import pkgutil

    import importlinter

    for info in pkgutil.walk_packages(importlinter.__path__, "importlinter."):
        if info.name.startswith(("importlinter.ui", "importlinter.cli")):
            continue
        importlib.import_module(info.name)
    import pytest_ssot

    for info in pkgutil.walk_packages(pytest_ssot.__path__, "pytest_ssot."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if exc.name != "libcst":  # the fix extra is optional (the lower-bound CI run)
                raise
    # libcst loads its Rust parser on the first parse. A PyO3 module cannot be loaded
    # twice in one process, so it must not be dropped with a run's modules either.
    with contextlib.suppress(ImportError):
        importlib.import_module("libcst.native")
