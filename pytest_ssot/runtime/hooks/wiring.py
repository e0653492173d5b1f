"""The runtime checks of one run, built and registered together (not under ``--ssot-only``).

The phase tracker, the manager checks, the isolation checks, the import checks and
the double-load check are separate pytest hook objects; this module builds them in
the order they depend on each other, registers them, and answers the session's
questions about them as a whole: what they observed, and the session-end checks.
A contracts-only run imports none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from pytest_ssot.findings import FindingsReporter
from pytest_ssot.layout import ProjectLayout
from pytest_ssot.managers import ManagerSpec
from pytest_ssot.model import ContractSpec, Phase
from pytest_ssot.runtime.hooks.double_loads import DoubleLoadCheck
from pytest_ssot.runtime.hooks.import_checks import RuntimeImportChecks, never_frozen
from pytest_ssot.runtime.hooks.isolation_checks import IsolationChecks
from pytest_ssot.runtime.hooks.manager_checks import ManagerChecks
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.settings import RuntimeSettings, Settings


class RuntimeChecks:
    """The runtime checks' hook objects, registered with pytest in the order they need."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        runtime_settings: RuntimeSettings,
        specs: Sequence[ContractSpec],
        managers: Sequence[ManagerSpec],
        layout: ProjectLayout,
        findings: FindingsReporter,
        *,
        frozen_rule: Callable[[str, str], bool] | None,
        ran_everything: Callable[[pytest.Session], bool],
        more_lines: Callable[[], list[str]],
    ) -> None:
        register = config.pluginmanager.register
        self.findings = findings
        self.phases = PhaseTracker()
        register(self.phases, "ssot-phases")
        self.managers = ManagerChecks(
            config,
            settings,
            managers,
            self.phases,
            findings,
            # The isolation checks need the managers' tracker, so they come second.
            shared_now=lambda manager: self.isolation.shared_now(manager),
        )
        register(self.managers, "ssot-managers")
        self.isolation = IsolationChecks(
            config, self.phases, findings, self.managers.tracker, ran_everything
        )
        register(self.isolation, "ssot-isolation")
        is_frozen = frozen_rule or never_frozen
        self.imports = RuntimeImportChecks(
            config,
            runtime_settings,
            specs,
            layout,
            self.phases,
            findings,
            is_frozen=is_frozen,
            more_lines=more_lines,
        )
        register(self.imports, "ssot-runtime-imports")
        self.double_loads = DoubleLoadCheck(
            runtime_settings, layout, findings.record, is_frozen=is_frozen
        )
        register(self.double_loads, "ssot-double-loads")

    @property
    def wire_states(self) -> Mapping[str, Any]:
        """The checks whose summary counts a pytest-xdist worker sends, by wire key."""
        return {"managers": self.managers, "imports": self.imports, "isolation": self.isolation}

    @property
    def checks_on(self) -> set[str]:
        """The runtime checks that can report a finding in this run."""
        return (
            self.managers.checks_on
            | self.isolation.checks_on
            | self.imports.checks_on
            | self.double_loads.checks_on
        )

    def observed(self) -> set[tuple[str, str]]:
        """(rule, fingerprint) of the loads and double loads seen, frozen or not."""
        return {*self.imports.observed, *self.double_loads.observed}

    def finish(self, session: pytest.Session, *, controller: bool) -> None:
        """The session-end checks, in this order (not hooks of their own)."""
        self.double_loads.check(Phase("finish"))
        self.managers.tracker.check_unimported()
        if controller:
            self.isolation.check_shared_ok(session)
