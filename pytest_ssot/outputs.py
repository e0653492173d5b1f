"""The files a run writes besides the baseline: the JSON report, SARIF, the history, HTML.

All of them come from one dict, the JSON report's (``Outputs.report_data``). The
paths are checked at start-up (``check_outputs``), so that a run does not fail
only at its end for a path it could never write; a file that still cannot be
written is named at the end and fails the run, while the others are written.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.findings import FindingsReporter
from pytest_ssot.model import Finding, GraphStats, SsotError, runtime_status
from pytest_ssot.paths import display_path
from pytest_ssot.ratchet import Ratchet
from pytest_ssot.reporting.github import RuntimeSite, annotation_lines, runtime_annotation_lines
from pytest_ssot.reporting.junit import contract_classname, set_classname
from pytest_ssot.results import ContractResults
from pytest_ssot.settings import Settings

if TYPE_CHECKING:  # the fixer is imported only when a plan is needed
    from pytest_ssot.fixing.runner import Fixer


def check_outputs(settings: Settings) -> None:
    """Refuse at start-up what would fail at the end: a missing extra, an unusable path."""
    from pytest_ssot.fileio import output_problem

    if settings.fix or settings.diff:
        from pytest_ssot.fixing.summary import missing_fix_dependency

        problem = missing_fix_dependency("--ssot-fix" if settings.fix else "--ssot-diff")
        if problem is not None:
            raise pytest.UsageError(f"pytest-ssot: {problem}")
    if settings.html is not None:
        from pytest_ssot.reporting.html_report import missing_html_dependency

        problem = missing_html_dependency(settings.named("--ssot-html"))
        if problem is not None:
            raise pytest.UsageError(f"pytest-ssot: {problem}")
    writes_baseline = settings.baseline_update or settings.baseline_prune
    outputs = (
        ("--ssot-baseline", settings.baseline if writes_baseline else None),
        ("--ssot-report", settings.report),
        ("--ssot-html", settings.html),
        ("--ssot-sarif", settings.sarif),
        ("ssot_history", settings.history),
    )
    for option, path in outputs:
        if path is None:
            continue
        problem = output_problem(path, lambda p: display_path(p, settings.rootdir))
        if problem is not None:
            shown = display_path(path, settings.rootdir, outside="as-given")
            advice = "give the path of a regular file in a folder this process can write"
            if not problem.startswith("permission denied"):  # the default may sit there too
                advice += f", for example {DEFAULT_NAMES[option]}"
            raise pytest.UsageError(
                f"pytest-ssot: {settings.named(option)}: cannot write {shown}: {problem}; {advice}"
            )
    if settings.history is not None:
        from pytest_ssot.reporting.history import HistoryError, read_history

        try:
            read_history(settings.history, display_path(settings.history, settings.rootdir))
        except HistoryError as exc:
            raise pytest.UsageError(f"pytest-ssot: {exc}") from None


DEFAULT_NAMES = {
    "--ssot-baseline": ".ssot-baseline.json",
    "--ssot-report": "ssot-report.json",
    "--ssot-html": "ssot-report.html",
    "--ssot-sarif": "ssot.sarif",
    "ssot_history": ".ssot-history.jsonl",
}


class Outputs:
    """pytest hook object: names the contract testcases in JUnit XML, writes the report files
    at the end of the run and says what it wrote."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        results: ContractResults,
        findings: FindingsReporter,
        *,
        ratchet: Ratchet | None,
        graph_stats: Callable[[], list[GraphStats]],
        fixer: Callable[[], Fixer],
        source_displays: Collection[str],
        runtime_checks: Callable[[], set[str]],
    ) -> None:
        self.config = config
        self.settings = settings
        self.runtime_checks = runtime_checks
        """The runtime checks that were on (a SARIF rule each, found or not)."""
        self.source_displays = frozenset(source_displays)
        """The contract files as node ids show them: their testcases get our JUnit classname."""
        self.results = results
        self.findings = findings
        self.ratchet = ratchet
        self.graph_stats = graph_stats
        self.fixer = fixer
        self.written: tuple[str, ...] = ()
        """What ``write`` wrote, for the terminal summary."""
        self.errors: tuple[str, ...] = ()
        """Files that could not be written (the baseline too): each fails the run."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # tryfirst: before pytest's JUnit writer records the testcase (pytest_ssot.reporting.junit).
        if self.settings.is_worker or not self.settings.junit_xml:
            return
        head = report.nodeid.split("::", 1)[0]
        if head in self.source_displays:
            set_classname(self.config, report, contract_classname(head))

    def add_error(self, problem: str) -> None:
        self.errors += (problem,)

    def write(self, exit_status: int, incomplete: bool) -> None:
        """The JSON report, the SARIF log, the history line and the HTML report, from one dict.

        A file that cannot be written is named at the end and fails the run (a
        run-level failure); the others are still written.
        """
        settings = self.settings
        if (
            settings.report is None
            and settings.html is None
            and settings.history is None
            and settings.sarif is None
        ):
            return
        report = self.report_data(exit_status)
        written: list[str] = []
        errors: list[str] = list(self.errors)
        entries: tuple[dict[str, Any], ...] = ()
        if settings.history is not None:
            from pytest_ssot.reporting.history import (
                HistoryError,
                append_history,
                entry_from_report,
                read_history,
            )

            shown = display_path(settings.history, settings.rootdir)
            try:
                if incomplete or not self.results.results:
                    entries = read_history(settings.history, shown).entries  # nothing to add
                else:
                    entry = entry_from_report(report)
                    entries = append_history(settings.history, entry, display=shown).entries
                    written.append(f"history: {len(entries)} runs in {shown}")
            except HistoryError as exc:
                errors.append(str(exc))
            except (OSError, SsotError) as exc:
                errors.append(f"cannot update the history file {shown}: {reason(exc)}")
        if settings.sarif is not None:
            from pytest_ssot.reporting.sarif import build_sarif, write_sarif

            shown = display_path(settings.sarif, settings.rootdir)
            try:
                write_sarif(settings.sarif, build_sarif(report))
                written.append(f"SARIF log written to {shown}")
            except (OSError, SsotError) as exc:
                errors.append(f"cannot write the SARIF log {shown}: {reason(exc)}")
        if settings.html is not None:
            from pytest_ssot.reporting.html_report import render_html, write_html

            shown = display_path(settings.html, settings.rootdir)
            try:
                write_html(settings.html, render_html(report, entries))
                written.append(f"HTML report written to {shown}")
            except (OSError, SsotError) as exc:
                errors.append(f"cannot write the HTML report {shown}: {reason(exc)}")
        if settings.report is not None:
            # Last: a file that could not be written above fails the run, and the
            # report's exit status must say so (pytest's exit status is 1 then).
            from pytest_ssot.reporting.json_report import write_report

            if errors and report.get("exit_status") == 0:
                report = {**report, "exit_status": int(pytest.ExitCode.TESTS_FAILED)}
            shown = display_path(settings.report, settings.rootdir)
            try:
                write_report(settings.report, report)
                written.insert(0, f"report written to {shown}")  # named first, as it always was
            except (OSError, SsotError) as exc:
                errors.append(f"cannot write the JSON report {shown}: {reason(exc)}")
        self.written, self.errors = tuple(written), tuple(errors)

    def report_data(self, exit_status: int) -> dict[str, Any]:
        """This run as the JSON report's dict: the one source of every file written."""
        import datetime

        import pytest_ssot
        from pytest_ssot.installed import library_versions
        from pytest_ssot.reporting.json_report import build_report

        outcomes = [
            (result, self.results.comparisons.get(cid))
            for cid, result in self.results.results.items()
        ]
        baseline_info = self.ratchet.report_info() if self.ratchet is not None else None
        report = build_report(
            outcomes=outcomes,
            graphs=self.graph_stats(),
            versions={"pytest-ssot": pytest_ssot.__version__, **library_versions()},
            created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            rootdir=str(self.settings.rootdir),
            exit_status=exit_status,
            baseline=baseline_info,
            runtime=[
                finding_dict(f, allowed=self.findings.allowed(f)) for f in self.findings.findings
            ],
            fixes=self._fix_lookup(),
            runtime_checks=sorted(self.runtime_checks()),
        )
        return report

    def _fix_lookup(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Each fixable-kind violation's fix, for the report (planned only if there is one)."""
        from pytest_ssot.fixing.runner import fixable_violation

        wanted = [
            (result.spec.id, v)
            for result in self.results.results.values()
            for v in result.violations
            if fixable_violation(result.spec, v)
        ]
        fixer = self.fixer() if wanted else None
        plan = fixer.shown() if fixer is not None else None
        if plan is None:
            return {}
        found = {}
        for cid, violation in wanted:
            edge = plan.for_violation(violation)
            if edge is not None:
                found[(cid, violation.fingerprint)] = edge.to_dict()
        return found

    def github_lines(self) -> list[str]:
        """``::error`` workflow commands: each new violation, and each runtime site once."""
        items = [
            (result, self.results.comparisons[cid].new)
            if cid in self.results.comparisons
            else (result, result.violations)
            for cid, result in self.results.results.items()
        ]
        lines = annotation_lines(items, self.settings.rootdir)
        sites = [
            RuntimeSite(
                check=f.check,
                rule=f.rule,
                summary=f.summary,
                file=f.file,
                line=f.line,
                nodeid=f.phase.nodeid if f.phase.in_test else "",
            )
            for f in self.findings.findings
            if f.severity == "error" and not f.frozen and not self.findings.allowed(f)
        ]
        return [*lines, *runtime_annotation_lines(sites, self.settings.rootdir)]


def reason(exc: Exception) -> str:
    """What went wrong writing a file, in a few words."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def finding_status(finding: Finding, allowed: bool) -> str:
    """How a runtime finding ended: it failed its test or the run, or it did not and why."""
    return runtime_status(finding.severity, finding.frozen, allowed)


def finding_dict(finding: Finding, *, allowed: bool = False) -> dict[str, Any]:
    return {
        "status": finding_status(finding, allowed),
        "check": finding.check,
        "rule": finding.rule,
        "summary": finding.summary,
        "details": finding.details,
        "phase": finding.phase.describe(),
        "nodeid": finding.phase.nodeid or None,
        "fingerprint": finding.fingerprint,
        "severity": finding.severity,
        "file": finding.file,
        "line": finding.line,
        "frozen": finding.frozen,
        "allowed": allowed and not finding.frozen,
    }
