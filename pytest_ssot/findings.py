"""Runtime findings and how they reach the user (not a runtime check itself: a contracts-only
run uses it for the hidden-folder scan, without importing ``pytest_ssot.runtime``).

A runtime check (duplicate managers, dynamic imports of forbidden modules, ...)
calls ``FindingsReporter.record`` when it sees a problem. A finding made while
a test runs fails that test's report for that phase (setup, call or teardown);
one made outside any test (start-up, collection, session end) is in
``outside_tests``, which the session reports as run-level failures
(``pytest_ssot.run_failures``): each shows in the short test summary, the final
line and JUnit XML, and makes the run fail. Warnings never fail anything: they go
to pytest's warnings summary.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence

import pytest

from pytest_ssot.model import ERROR, WARNING, Finding

DYNAMIC_IMPORT = "dynamic-import"


def check_of(fingerprint: str) -> str:
    """The runtime check whose findings have this (baseline) fingerprint.

    Every runtime fingerprint starts with its check's name, except a dynamic import's,
    which is the static one (``import: a -> b``) so that one baseline entry freezes both.
    """
    kind = fingerprint.partition(":")[0]
    return DYNAMIC_IMPORT if kind == "import" else kind


class PytestSsotRuntimeWarning(UserWarning):
    """A runtime finding configured to warn rather than fail."""


class FindingsReporter:
    """pytest hook object: turns recorded findings into failed reports and a summary.

    Holds every ``Finding`` of the run, those still to be attached to a test's report,
    the ones a test's marker allows, and the baseline's ``is_frozen`` answer. Made and
    registered by the session for every ``--ssot`` run; each runtime check reports
    through ``record``, and a finding made during a test fails that test's phase, one
    made outside tests fails the run.
    """

    def __init__(
        self,
        *,
        is_frozen: Callable[[str, str], bool] | None = None,
        limit: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.findings: list[Finding] = []
        self._pending: dict[tuple[str, str], list[Finding]] = {}
        self._allowed: set[tuple[str, str, str | None]] = set()
        self.is_frozen = is_frozen
        """(rule, fingerprint) -> whether the baseline freezes it (None: no baseline)."""
        self.limit = limit
        """Findings shown in full per report (``ssot_max_chains``); None: all (``-v``)."""

    # -- recording ------------------------------------------------------------

    def record(self, finding: Finding) -> None:
        if finding.severity == WARNING and not _warned(finding):
            finding = dataclasses.replace(
                finding,
                severity=ERROR,
                details=f"{finding.details}\n  (Configured to warn; the warning filters "
                "(-W error, filterwarnings) turn this warning into an error.)",
            )
        if (
            finding.severity == ERROR
            and not finding.frozen
            and self.is_frozen is not None
            and self.is_frozen(finding.rule, finding.fingerprint)
        ):
            finding = dataclasses.replace(finding, frozen=True)
        with self._lock:
            self.findings.append(finding)
            if finding.severity == ERROR and not finding.frozen and finding.phase.in_test:
                key = (finding.phase.nodeid, finding.phase.when)
                self._pending.setdefault(key, []).append(finding)

    def allow(self, nodeid: str, check: str, rule: str | None = None) -> None:
        """Opt a test out of one check (its findings are kept, but do not fail it).

        With ``rule``, only the findings of that rule (a manager name, a contract id).
        """
        self._allowed.add((nodeid, check, rule))

    def allow_marked(
        self,
        item: pytest.Item,
        marker: str,
        checks: Iterable[str],
        known: Callable[[str], object],
    ) -> None:
        """Apply an opt-out marker found on ``item`` to ``checks``.

        ``@marker`` opts the test out for every rule, ``@marker("a", "b")`` only for
        those rules; ``known(name)`` raises ValueError for a rule nobody declared,
        which fails the test with that message.
        """
        for mark in item.iter_markers(marker):
            names: list[str | None] = [str(name) for name in mark.args]
            for name in names:
                try:
                    known(str(name))
                except ValueError as exc:
                    pytest.fail(f"@pytest.mark.{marker}: {exc}", pytrace=False)
            for check in checks:
                for rule in names or [None]:
                    self.allow(item.nodeid, check, rule=rule)

    @property
    def allowances(self) -> list[tuple[str, str, str | None]]:
        """Every (nodeid, check, rule) opt-out, to send from an xdist worker to the controller."""
        return sorted(self._allowed, key=lambda a: (a[0], a[1], a[2] or ""))

    def allowed(self, finding: Finding) -> bool:
        nodeid, check = finding.phase.nodeid, finding.check
        return any((nodeid, check, rule) in self._allowed for rule in (None, finding.rule))

    def for_test(self, nodeid: str) -> list[Finding]:
        with self._lock:
            return [f for f in self.findings if f.phase.nodeid == nodeid and f.phase.in_test]

    @property
    def outside_tests(self) -> list[Finding]:
        with self._lock:
            return [
                f
                for f in self.findings
                if f.severity == ERROR and not f.frozen and not f.phase.in_test
            ]

    # -- hooks ----------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        with self._lock:
            found = self._pending.pop((item.nodeid, call.when), [])
        failing = [f for f in found if not self.allowed(f)]
        if not failing:
            return report
        text = render_capped(failing, self.limit)
        if report.passed:
            report.outcome = "failed"
            report.longrepr = text
        else:
            report.sections.append((f"pytest-ssot findings ({call.when})", text))
        return report


def _warned(finding: Finding) -> bool:
    """Issue the finding as a warning; False when the warning filters made it an exception.

    With ``-W error`` a warning raised in a hook (collection, session end) would escape
    pytest as an internal error, and in an import hook it would break the project's import.
    """
    try:
        warnings.warn_explicit(
            PytestSsotRuntimeWarning(finding.render()),
            PytestSsotRuntimeWarning,
            filename=finding.file or "pytest-ssot",
            lineno=finding.line or 0,
        )
    except Warning:
        return False
    return True


def _render_all(findings: Iterable[Finding]) -> str:
    return "\n\n".join(f.render() for f in findings)


def render_capped(findings: Sequence[Finding], limit: int | None) -> str:
    """The findings in full, the first ``limit`` of them, then a count of the rest by check
    and rule (5,000 duplicates in one test must not print 135,000 lines)."""
    if limit is None or len(findings) <= limit:
        return _render_all(findings)
    return _render_all(findings[:limit]) + "\n\n" + left_out(findings[limit:], limit)


def left_out(rest: Sequence[Finding], limit: int) -> str:
    """What a capped list did not show, counted by check and rule."""
    counts = Counter((f.check, f.rule) for f in rest)
    kinds = ", ".join(f"{n} {check} ({rule})" for (check, rule), n in sorted(counts.items()))
    return (
        f"... and {len(rest)} more finding{'s' if len(rest) != 1 else ''} not shown: {kinds}. "
        f"-v shows all (at most ssot_max_chains = {limit} are shown); the --ssot-report "
        "JSON lists every one."
    )
