"""The per-run coordinator, registered as a pytest plugin only when ``--ssot`` is on.

It reads the settings, loads the contract sources, adds the contract items to
the collection and writes the terminal summary. Keeping these hooks here, not in
``plugin.py``, is what makes a run without ``--ssot`` cost nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.checking import StaticChecker, usable_cache_root
from pytest_ssot.collection import ContractCollection, deselected_line
from pytest_ssot.findings import FindingsReporter, left_out
from pytest_ssot.fix_step import FixStep
from pytest_ssot.hidden_folders import HiddenFolderCheck
from pytest_ssot.inputs import RunInputs, load_inputs
from pytest_ssot.items import SsotContext
from pytest_ssot.layout import ProjectLayout
from pytest_ssot.managers import (
    ManagerSpec,
    declaration_finding,
    declaration_fingerprint,
    declaration_problem,
)
from pytest_ssot.model import (
    DOUBLE_LOAD_RULE,
    HIDDEN_FOLDER_RULE,
    RUNTIME_PREFIX,
    WATCH_RULE_ID,
    ContractSpec,
    GraphStats,
    Phase,
    SsotError,
)
from pytest_ssot.outputs import Outputs, check_outputs, reason
from pytest_ssot.ratchet import Ratchet, RatchetSummary, RunEnd, load_baseline
from pytest_ssot.reporting.github import (
    running_on_github,
)
from pytest_ssot.reporting.text import SourceLines, summary_lines
from pytest_ssot.results import ContractResults
from pytest_ssot.run_failures import PLUGIN_NAME as RUN_FAILURES
from pytest_ssot.run_failures import RunFailures, report_run_failure
from pytest_ssot.settings import RuntimeSettings, Settings
from pytest_ssot.syspath import importable_from
from pytest_ssot.xdist_wire import WorkerWire, XdistController

if (
    TYPE_CHECKING
):  # imported when needed: the fixer for a plan, the runtime checks not on --ssot-only
    from pytest_ssot.runtime.hooks.wiring import RuntimeChecks

    pass

CACHE_DIR_NAME = "pytest-ssot"


def cache_root(config: pytest.Config) -> Path | None:
    """pytest-ssot's folder in pytest's cache; None without a cache (or an unusable one)."""
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is None:
        return None
    root, problem = usable_cache_root(lambda: Path(cache.mkdir(CACHE_DIR_NAME)))
    if problem is not None:
        _warn_once(config, problem)
    return root


def start_checks(
    config: pytest.Config,
    settings: Settings,
    inputs: RunInputs,
    *,
    frozen_rule: Callable[[str, str], bool] | None,
    ran_everything: Callable[[pytest.Session], bool],
) -> tuple[FindingsReporter, HiddenFolderCheck, RuntimeChecks | None]:
    """The findings reporter, the hidden-folder scan and, when tests run, the runtime checks."""
    runtime_settings = RuntimeSettings.from_config(
        config, [spec.id for spec in inputs.specs] if inputs.complete else None
    )
    findings = FindingsReporter(
        is_frozen=frozen_rule, limit=None if settings.verbose else settings.max_chains
    )
    config.pluginmanager.register(findings, "ssot-findings")
    roots = sorted({r for spec in inputs.specs for r in spec.session.root_packages})
    layout = ProjectLayout.discover(settings.rootdir, roots)
    hidden = HiddenFolderCheck(
        runtime_settings,
        layout,
        findings.record,
        is_frozen=frozen_rule,
        verbose=settings.verbose,
        own_section=settings.only,
    )
    config.pluginmanager.register(hidden, "ssot-hidden-folders")
    if settings.only:
        # --ssot-only imports no test module and runs no test: the runtime checks
        # would see nothing, so not one of them is imported. What can be told of the
        # manager declarations without importing the project still is.
        # Looked for as the contracts look for packages (the rootdir on sys.path): this
        # run imports nothing, so what the test run could import is for the full run to say.
        startup = Phase("startup")
        with importable_from(settings.rootdir):
            problems = [
                (manager, problem)
                for manager in inputs.managers
                for problem in filter(None, map(declaration_problem, manager.classes))
            ]
        for manager, problem in problems:
            fingerprint = declaration_fingerprint(manager, problem)
            findings.record(declaration_finding(manager, problem, startup, fingerprint))
        return findings, hidden, None
    from pytest_ssot.runtime.hooks.wiring import RuntimeChecks

    runtime = RuntimeChecks(
        config,
        settings,
        runtime_settings,
        inputs.specs,
        inputs.managers,
        layout,
        findings,
        frozen_rule=frozen_rule,
        ran_everything=ran_everything,
        more_lines=hidden.summary_lines,
    )
    return findings, hidden, runtime


def _warn_once(config: pytest.Config, problem: str) -> None:
    """Say once, as pytest does for its own cache, that the run goes on without the cache."""
    message = (
        f"pytest-ssot: the result cache cannot be used ({problem}); contracts are checked "
        "from scratch on every run. Make the cache folder writable, or choose another one "
        "with -o cache_dir=PATH."
    )
    try:
        config.issue_config_time_warning(pytest.PytestCacheWarning(message), stacklevel=2)
    except Warning:
        # -W error: the warning is an error, and a clear one.
        raise pytest.UsageError(message) from None


class SsotSession:
    """The wiring of one ``--ssot`` run: builds each feature's hook object and orders the end.

    Settings (``settings.py``), the contracts and managers (``inputs.py``), the ratchet
    (``ratchet.py``), the contract items (``collection.py``), the runtime checks
    (``findings.py``, ``hidden_folders.py``, ``runtime/hooks/wiring.py``), the pytest-xdist wire
    (``xdist_wire.py``), ``--ssot-fix`` (``fix_step.py``) and the report files
    (``outputs.py``) each live in their own module; this class connects them.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = Settings.from_config(config)
        check_outputs(self.settings)
        # First, so that anything set up below can report a run-level failure.
        self.run_failures = RunFailures(config)
        config.pluginmanager.register(self.run_failures, RUN_FAILURES)
        baseline = load_baseline(self.settings)
        self.inputs = load_inputs(self.settings)
        self.loaded, self.load_error = list(self.inputs.loaded), self.inputs.error
        self.checker = self._make_checker(cache_root(config))
        """Checks the contracts; made again when --ssot-fix changed the tree."""
        self.results = ContractResults(baseline)
        self.runtime_keys = runtime_keys(self.specs, self.inputs.managers)
        """Every baseline key a runtime finding of this configuration can have."""
        self.ratchet: Ratchet | None = None
        if baseline is not None:
            self.ratchet = Ratchet(
                self.settings,
                baseline,
                self.results,
                contract_ids=[spec.id for spec in self.specs],
                contracts_known=self.inputs.complete,
                observed=self.runtime_observed,
                runtime_keys=self.runtime_keys,
            )
        self.findings, self.hidden, self.runtime = start_checks(
            config,
            self.settings,
            self.inputs,
            # Runtime findings the baseline freezes pass, like frozen static violations.
            frozen_rule=self.ratchet.frozen_rule if self.ratchet is not None else None,
            ran_everything=self.ran_everything,
        )
        self.deselected = 0
        self.collection = ContractCollection(
            config, self.settings, self.loaded, self.load_error, lambda: self.context
        )
        config.pluginmanager.register(self.collection, "ssot-collection")
        self.wire = WorkerWire(
            self.specs,
            self.results,
            self.findings,
            self.run_failures,
            self.runtime.wire_states if self.runtime is not None else {},
            observed=self.runtime_observed,
            graph_stats=lambda: self.checker.graph_stats(),
        )
        self.xdist: XdistController | None = None
        if config.pluginmanager.hasplugin("xdist") and not self.is_worker:
            self.xdist = XdistController(config, self.wire)
            config.pluginmanager.register(self.xdist, "ssot-xdist")
        self.fix = FixStep(
            self.settings,
            self.specs,
            lambda: self.checker,
            active=(self.settings.fix or self.settings.diff)
            and not self.is_worker
            and self.load_error is None,
            on_fixed=self._remake_checker,
        )
        config.pluginmanager.register(self.fix, "ssot-fix")
        self.outputs = Outputs(
            config,
            self.settings,
            self.results,
            self.findings,
            ratchet=self.ratchet,
            graph_stats=self.graph_stats,
            fixer=self.fix.fixer,
            source_displays=[f.display for f in self.loaded],
            runtime_checks=lambda: (
                self.hidden.checks_on
                | (self.runtime.checks_on if self.runtime is not None else set())
            ),
        )
        config.pluginmanager.register(self.outputs, "ssot-outputs")

    # -- fixing ---------------------------------------------------------------------------

    def _make_checker(self, cache_root: Path | None) -> StaticChecker:
        return StaticChecker(
            self.settings.rootdir,
            cache_root,
            self.specs,
            redundant_ignores=self.settings.redundant_mode,
            redundant_budget=self.settings.redundant_budget,
            dynamic_imports=self.settings.static_dynamic,
        )

    def _remake_checker(self) -> None:
        """The tree was fixed: check it afresh (the results cached for it are stale)."""
        self.checker = self._make_checker(self.checker.cache_root)

    @functools.cached_property
    def context(self) -> SsotContext:
        """What the contract nodes share, made at collection: after a fix, the tree is final."""
        return SsotContext(
            checker=self.checker,
            max_chains=self.settings.max_chains,
            reader=SourceLines(self.settings.rootdir),
            record=self.results.record,
            strict=self.settings.baseline_strict,
            freezing=self.settings.freezing,
            fixer=self.fix.fixer,
        )

    def runtime_observed(self) -> set[tuple[str, str]]:
        """(baseline key, fingerprint) of every runtime finding of this run, frozen or not."""
        seen = {*self.hidden.observed, *(self.runtime.observed() if self.runtime else ())}
        seen |= {
            (f.rule, f.fingerprint)
            for f in self.findings.findings
            if f.severity == "error" and not self.findings.allowed(f)
        }
        return {(RUNTIME_PREFIX + rule, fp) for rule, fp in seen} | self.wire.merged_observed

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    @property
    def specs(self) -> list[ContractSpec]:
        """Every contract that loaded without error, in order."""
        return self.inputs.specs

    @property
    def is_worker(self) -> bool:
        return self.settings.is_worker

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # tryfirst: the run-level failures reported at the end must reach pytest's
        # JUnit writer (an ordinary sessionfinish hook) and the terminal summary.
        # The session-end checks run here, in this order, not as hooks of their own.
        if self.runtime is not None:
            self.runtime.finish(session, controller=not self.is_worker)
        if self.is_worker:
            # Only the controller writes files; a worker sends what it saw.
            self.wire.send(self.config)
            return
        incomplete = exitstatus in (
            pytest.ExitCode.INTERRUPTED,
            pytest.ExitCode.INTERNAL_ERROR,
            pytest.ExitCode.USAGE_ERROR,
        )
        ratchet = self.ratchet
        if ratchet is not None:
            complete = not incomplete and self.ran_everything(session)
            ratchet.end = RunEnd(complete=complete, workers_lost=self.workers_lost)
            if not incomplete and self.settings.writes_baseline:
                try:
                    ratchet.write()
                except (OSError, SsotError) as exc:
                    self.outputs.add_error(
                        f"cannot write the baseline {ratchet.shown}: {reason(exc)}; "
                        "it was left as it was"
                    )
        self._add_run_failures()
        if self.run_failures.failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # as the reports will say
        self.outputs.write(int(session.exitstatus), incomplete)
        for problem in self.outputs.errors:
            report_run_failure(self.config, "write-output", problem)
        self.run_failures.report(session)

    def _add_run_failures(self) -> None:
        """Every failure outside any test, for a failed report of its own (run_failures)."""
        report_outside_tests(self.config, self.findings)
        if self.ratchet is not None:
            self.ratchet.report_failures(self.config)

    @property
    def workers_lost(self) -> int:
        return self.xdist.workers_lost if self.xdist is not None else 0

    def graph_stats(self) -> list[GraphStats]:
        return self.wire.graph_stats()

    def ran_everything(self, session: pytest.Session) -> bool:
        """Whether every test ran, so runtime findings not seen are really gone."""
        option = self.config.option
        return not (
            self.settings.only
            or self.deselected
            or session.shouldfail
            or session.shouldstop
            or getattr(option, "lf", False)
            or getattr(option, "stepwise", False)
            or self.workers_lost
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for problem in self.outputs.errors:
            terminalreporter.write_line(f"pytest-ssot: {problem}", red=True)
        # Modules seen loaded at runtime are never called deletable.
        loaded = {fp.rpartition(" -> ")[2] for _, fp in self.runtime_observed()}
        self.fix.write_summary(terminalreporter, loaded)
        if self.collection.contracts_left_out(self.specs):
            # Under pytest-xdist the workers deselect, and neither the header nor the
            # final line of the controller shows it: said here instead.
            terminalreporter.write_line(deselected_line(len(self.specs)), yellow=True)
        if running_on_github():
            for line in self.outputs.github_lines():
                terminalreporter.write_line(line)
        results = list(self.results.results.values())
        # A baseline run that checked no contract (-k selected tests only) still says
        # what it did with the baseline.
        about_baseline = self.ratchet is not None and self.ratchet.has_news()
        if not results and not about_baseline:
            return
        terminalreporter.section("pytest-ssot")
        if results:
            lines = summary_lines(
                results,
                self.graph_stats(),
                verbose=self.settings.verbose,
                comparisons=self.results.comparisons,
            )
            for line in lines:
                terminalreporter.write_line(line)
        if self.ratchet is not None:
            for line in RatchetSummary(self.ratchet).lines(write_failed=bool(self.outputs.errors)):
                terminalreporter.write_line(line)
        for line in self.outputs.written:
            terminalreporter.write_line(line)


def runtime_keys(specs: Sequence[ContractSpec], managers: Sequence[ManagerSpec]) -> frozenset[str]:
    """Every baseline key a runtime finding can have: its contract, manager or check rule."""
    rules = {spec.id for spec in specs} | {manager.name for manager in managers}
    rules |= {DOUBLE_LOAD_RULE, HIDDEN_FOLDER_RULE, WATCH_RULE_ID}
    return frozenset(RUNTIME_PREFIX + rule for rule in rules)


def report_outside_tests(config: pytest.Config, findings: FindingsReporter) -> None:
    """Every runtime finding made outside any test, as a run-level failure of its own."""
    outside = findings.outside_tests
    limit = findings.limit
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
