"""Folders inside the root packages that hold ``.py`` files but no ``__init__.py``.

grimp skips such a folder, so no contract sees the imports of its files. The
scan is about the sources, not the test run: it runs once per session, with the
tests or without them (``--ssot-only``), and is no runtime check.
``ssot_hidden_folders``: ``report`` (the summary lists them), ``fail`` (each is a
finding outside any test, which the baseline can freeze) or ``off``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

import pytest

from pytest_ssot.layout import HiddenFolder, ProjectLayout, find_hidden_folders
from pytest_ssot.model import HIDDEN_FOLDER_RULE, Finding, Phase
from pytest_ssot.settings import FAIL, OFF, REPORT, RuntimeSettings

SHOWN_FOLDERS = 20


class HiddenFolderCheck:
    """pytest hook object: scans the root packages for hidden folders at the session's start."""

    def __init__(
        self,
        settings: RuntimeSettings,
        layout: ProjectLayout,
        record: Callable[[Finding], None],
        *,
        is_frozen: Callable[[str, str], bool] | None,
        verbose: bool,
        own_section: bool,
    ) -> None:
        self.settings = settings
        self.layout = layout
        self.record = record
        self.is_frozen = is_frozen
        self.verbose = verbose
        self.own_section = own_section
        """Write the summary lines in a section of their own (when no runtime check runs)."""
        self.hidden: list[HiddenFolder] = []
        self.allowed = 0
        self.observed: list[tuple[str, str]] = []
        """(rule, fingerprint) of each failing folder, frozen or not: what an update freezes."""

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding ("report" only counts them)."""
        return {"hidden-folder"} if self.settings.hidden_folders == FAIL else set()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.settings.hidden_folders == OFF:
            return
        for folder in find_hidden_folders(self.layout):
            if any(
                fnmatch.fnmatchcase(folder.display, p) for p in self.settings.hidden_folders_allow
            ):
                self.allowed += 1
                continue
            failing = self.settings.hidden_folders == FAIL
            if failing:  # only a failure is something the baseline can freeze
                frozen = self.is_frozen is not None and self.is_frozen(
                    HIDDEN_FOLDER_RULE, folder.fingerprint
                )
                self.observed.append((HIDDEN_FOLDER_RULE, folder.fingerprint))
                if frozen:
                    self.allowed += 1
                    continue
            self.hidden.append(folder)
            if failing:
                self.record(
                    Finding(
                        check="hidden-folder",
                        rule=HIDDEN_FOLDER_RULE,
                        summary=f"{folder.display}/ holds {files(folder.files)} but no "
                        "__init__.py: no contract sees their imports",
                        details="",
                        phase=Phase("scan"),
                        fingerprint=folder.fingerprint,
                        file=folder.display,
                    )
                )

    def summary_lines(self) -> list[str]:
        if not self.hidden or self.settings.hidden_folders != REPORT:
            return []
        total = sum(h.files for h in self.hidden)
        lines = [
            f"hidden folders: {len(self.hidden)} folder{'s' if len(self.hidden) != 1 else ''}"
            f" inside the root packages hold{'s' if len(self.hidden) == 1 else ''} .py files "
            f"but no __init__.py; the import graph cannot see {files(total)}:"
        ]
        shown = self.hidden if self.verbose else self.hidden[:SHOWN_FOLDERS]
        for folder in shown:
            lines.append(f"  {folder.display}/ ({files(folder.files)})")
        if len(shown) < len(self.hidden):
            lines.append(f"  ... and {len(self.hidden) - len(shown)} more (-v lists all)")
        if self.allowed:
            lines.append(
                f"  ({self.allowed} more allowed by ssot_hidden_folders_allow or the baseline.)"
            )
        lines.append(
            "  Add an __init__.py to each (or set ssot_hidden_folders = fail to make this "
            "a failure)."
        )
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.summary_lines() if self.own_section else []
        if not lines:
            return
        terminalreporter.section("pytest-ssot runtime")
        for line in lines:
            terminalreporter.write_line(line)


def files(count: int) -> str:
    return f"{count} .py file{'s' if count != 1 else ''}"
