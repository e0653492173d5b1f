"""``--ssot-fix`` and ``--ssot-diff`` in a run: the fix before the checks, its summary after.

The planner (``pytest_ssot.fixing``) is imported only when a plan is needed: on
a fix or diff run, or on the first contract failure whose chain it can shorten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.checking import StaticChecker
from pytest_ssot.model import ContractSpec, SsotError
from pytest_ssot.settings import Settings

if TYPE_CHECKING:  # the fixer is imported only when a plan is needed
    from pytest_ssot.fixing.runner import Fixer, FixRun


class FixStep:
    """pytest hook object: fixes (or diffs) the tree before any check, and says what it did."""

    def __init__(
        self,
        settings: Settings,
        specs: Sequence[ContractSpec],
        checker: Callable[[], StaticChecker],
        *,
        active: bool,
        on_fixed: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.specs = list(specs)
        self.checker = checker
        """The checker of the tree as it is now."""
        self.active = active
        """--ssot-fix or --ssot-diff on the controller, with every contract file loaded."""
        self.on_fixed = on_fixed
        """Called when the fix wrote files: the checks must see the fixed tree."""
        self._fixer: Fixer | None = None
        self.run: FixRun | None = None

    def fixer(self) -> Fixer:
        """The planner of fixes for the tree as it is (made when first needed)."""
        if self._fixer is None:
            from pytest_ssot.fixing.runner import Fixer

            self._fixer = Fixer(self.checker, self.specs, self.settings.rootdir)
        return self._fixer

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # tryfirst: under pytest-xdist this runs on the controller before any worker
        # starts (xdist starts them in its own, trylast, pytest_sessionstart), so the
        # workers import and check the fixed files. Workers never fix.
        if not self.active:
            return
        self.run = self.fixer().run(write=self.settings.fix)
        if any(f.written for f in self.run.files):
            # The verdicts of this run are those of the fixed tree: check it afresh.
            self.on_fixed()
            self._fixer = None

    def summary_lines(self, loaded_modules: set[str]) -> list[str]:
        """What the fix changed (or would), and the legacy modules nothing needs any more.

        ``loaded_modules``: modules the runtime checks saw loaded, never called deletable.
        """
        from pytest_ssot.fixing.summary import fix_summary_lines

        run = self.run
        assert run is not None
        deletable: list[str] = []
        if run.plan is not None:
            fixer = self.fixer()
            # Fixed: the tree as it is now. A diff: as it would be without the fixable imports.
            removed = (
                [e for e, fix in run.plan.edges.items() if fix.fixable] if not run.write else []
            )
            try:
                deletable = fixer.deletable(self.checker(), removed=removed, loaded=loaded_modules)
            except SsotError:
                deletable = []
        return fix_summary_lines(run, deletable, diff=not run.write)

    def write_summary(self, terminalreporter: Any, loaded_modules: set[str]) -> None:
        if self.run is None:
            return
        terminalreporter.section("pytest-ssot fix")
        for line in self.summary_lines(loaded_modules):
            terminalreporter.write_line(line)
