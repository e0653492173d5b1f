"""The runtime checks of one run, built and registered together (not under ``--ssot-only``).

The phase tracker, the findings reporter, the manager checks, the isolation checks
and the import checks are separate pytest hook objects; this module builds them in
the order they depend on each other, registers them, and answers the session's
questions about them as a whole: what they observed, which baseline keys they can
have, what they found outside any test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from pytest_ssot.managers import ManagerSpec
from pytest_ssot.model import RUNTIME_PREFIX, ContractSpec, Phase
from pytest_ssot.run_failures import report_run_failure
from pytest_ssot.runtime.findings import FindingsReporter, left_out
from pytest_ssot.runtime.import_checks import (
    DOUBLE_LOAD_RULE,
    HIDDEN_FOLDER_RULE,
    RuntimeImportChecks,
    never_frozen,
)
from pytest_ssot.runtime.isolation.checks import IsolationChecks
from pytest_ssot.runtime.manager_checks import ManagerChecks
from pytest_ssot.runtime.phase import PhaseTracker
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
        *,
        frozen_rule: Callable[[str, str], bool] | None,
        ran_everything: Callable[[pytest.Session], bool],
    ) -> None:
        register = config.pluginmanager.register
        self.specs = list(specs)
        self.phases = PhaseTracker()
        self.findings = FindingsReporter(
            self.phases,
            is_frozen=frozen_rule,
            limit=None if settings.verbose else settings.max_chains,
        )
        register(self.phases, "ssot-phases")
        register(self.findings, "ssot-findings")
        self.managers = ManagerChecks(config, settings, managers, self.phases, self.findings)
        register(self.managers, "ssot-managers")
        self.isolation = IsolationChecks(
            config, self.phases, self.findings, self.managers.tracker, ran_everything
        )
        register(self.isolation, "ssot-isolation")
        self.managers.shared_now = self.isolation.shared_now
        self.imports = RuntimeImportChecks(
            config,
            runtime_settings,
            self.specs,
            self.phases,
            self.findings,
            is_frozen=frozen_rule or never_frozen,
            # --ssot-only imports no test module and runs no test: nothing for the import
            # watcher to see (the double-load and hidden-folder checks still run).
            watch_imports=not settings.only,
        )
        register(self.imports, "ssot-runtime-imports")

    @property
    def wire_states(self) -> Mapping[str, Any]:
        """The checks whose summary counts a pytest-xdist worker sends, by wire key."""
        return {"managers": self.managers, "imports": self.imports, "isolation": self.isolation}

    def observed(self) -> set[tuple[str, str]]:
        """(baseline key, fingerprint) of every runtime finding of this process, frozen or not."""
        seen = {(RUNTIME_PREFIX + o.rule, o.fingerprint) for o in self.imports.observed}
        seen |= {
            (RUNTIME_PREFIX + f.rule, f.fingerprint)
            for f in self.findings.findings
            if f.severity == "error" and not self.findings.allowed(f)
        }
        return seen

    def keys(self) -> set[str]:
        """Every baseline key a runtime finding of this configuration can have."""
        from pytest_ssot.runtime.rules import WATCH_RULE_ID  # (imported with the watcher)

        rules = {spec.id for spec in self.specs}
        rules |= {rule.spec.name for rule in self.managers.tracker.rules}
        rules |= {DOUBLE_LOAD_RULE, HIDDEN_FOLDER_RULE, WATCH_RULE_ID}
        return {RUNTIME_PREFIX + rule for rule in rules}

    def finish(self, session: pytest.Session, *, controller: bool) -> None:
        """The session-end checks, in this order (not hooks of their own)."""
        self.imports.check_double_loads(Phase("finish"))
        self.managers.tracker.check_unimported()
        if controller:
            self.isolation.check_shared_ok(session)

    def report_outside_tests(self, config: pytest.Config) -> None:
        """Every finding made outside any test, as a run-level failure of its own."""
        outside = self.findings.outside_tests
        limit = self.findings.limit
        if limit is not None and len(outside) > limit:
            rest = outside[limit:]
            outside = outside[:limit]
            report_run_failure(config, "runtime-findings", left_out(rest, limit))
        for finding in outside:
            where = finding.phase.describe()
            text = "\n".join(f"  {line}" for line in finding.render().splitlines())
            report_run_failure(
                config,
                finding.check,
                f"{finding.summary} (during {where})",
                f"during {where}:\n{text}",
            )
