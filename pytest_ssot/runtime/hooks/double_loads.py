"""One source file loaded as two modules: checked after collection and at session end.

Each name is a separate module object, so every class in the file exists twice
and isinstance() fails between objects made through the two names.
``ssot_double_load``: fail, warn or off; ``ssot_double_load_allow`` lists names
that may be a second name for a file (docs/runtime-imports.md).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

import pytest

from pytest_ssot.layout import ProjectLayout
from pytest_ssot.model import DOUBLE_LOAD_RULE, ERROR, WARNING, Finding, Phase
from pytest_ssot.runtime.modules import DoubleLoad, find_double_loads
from pytest_ssot.settings import OFF, WARN, RuntimeSettings


class DoubleLoadCheck:
    """pytest hook object: files behind two modules in ``sys.modules``, each reported once."""

    def __init__(
        self,
        settings: RuntimeSettings,
        layout: ProjectLayout,
        record: Callable[[Finding], None],
        *,
        is_frozen: Callable[[str, str], bool],
    ) -> None:
        self.settings = settings
        self.layout = layout
        self.record = record
        self.is_frozen = is_frozen
        self.observed: list[tuple[str, str]] = []
        """(rule, fingerprint) of each double load, frozen or not: what an update freezes."""
        self._reported: set[str] = set()

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding in this run."""
        return {"double-load"} if self.settings.double_load != OFF else set()

    def _allowed(self, name: str) -> bool:
        return any(e.matches(name) for e in self.settings.double_load_allow)

    def check(self, phase: Phase) -> list[DoubleLoad]:
        if self.settings.double_load == OFF:
            return []
        found = find_double_loads(
            sys.modules, self.layout, sys_path=list(sys.path), allowed=self._allowed
        )
        new = [d for d in found if d.fingerprint not in self._reported]
        for double in new:
            self._reported.add(double.fingerprint)
            frozen = self.is_frozen(DOUBLE_LOAD_RULE, double.fingerprint)
            self.observed.append((DOUBLE_LOAD_RULE, double.fingerprint))
            finding = self._finding(double, phase)
            if frozen:  # fails nothing and warns of nothing; the reports show it as frozen
                finding = dataclasses.replace(finding, frozen=True, severity=ERROR)
            self.record(finding)
        return new

    def _finding(self, double: DoubleLoad, phase: Phase) -> Finding:
        width = max(len(c.describe()) for c in double.copies)
        lines = []
        for copy in double.copies:
            entries = ", ".join(copy.entries) if copy.entries else None
            how = (
                f"through sys.path entry {entries}"
                if entries
                else "not through sys.path (loaded from its path: spec_from_file_location, "
                "runpy, pytest's importlib import mode, or sys.path changed since)"
            )
            lines.append(f"  {copy.describe():<{width}}  {how}")
        lines += [
            "  Each name is a separate module object, so every class in the file exists twice: "
            "isinstance() and identity checks fail between objects made through the two names.",
            "  What to do: import the module under one name only (remove the sys.path entry "
            "that exposes a folder inside the package), or list a deliberate name in "
            "ssot_double_load_allow.",
        ]
        return Finding(
            check="double-load",
            rule=DOUBLE_LOAD_RULE,
            summary=f"{double.display} is loaded as {len(double.copies)} modules: "
            f"{', '.join(c.describe() for c in double.copies)}",
            details="\n".join(lines),
            phase=phase,
            fingerprint=double.fingerprint,
            severity=WARNING if self.settings.double_load == WARN else ERROR,
            file=double.display,
            line=1,
        )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.check(Phase("collection"))
