"""Failures of the run that belong to no test, reported the way pytest reports a failed test.

A hidden folder under ``ssot_hidden_folders = fail``, a module loaded twice outside
any test, a stale baseline entry under strict mode, a file pytest-ssot could not
write: each makes the run fail although no test failed. Reported only through the
exit status, such a failure would leave the final line saying ``13 passed`` over a
red build. Here each one becomes a failed test report of its own, node id
``pytest-ssot::<check>``, so it shows

- in the short test summary: ``FAILED pytest-ssot::hidden-folders - <title>``,
- in pytest's final line: ``1 failed, 13 passed``,
- in the failures section with its full message,
- in JUnit XML (``--junitxml``) as a ``<testcase classname="pytest-ssot"
  name="hidden-folders">`` with a ``<failure message="<title>">``,
- in ``--lf`` and ``--sw`` state like any failed test (the node id matches no
  item, so the next ``--lf`` run runs everything again).

The API, for any part of pytest-ssot::

    from pytest_ssot.run_failures import report_run_failure

    report_run_failure(config, "baseline-write", "cannot write .ssot-baseline.json: "
                       "Permission denied", "the full text: what, where, what to do next")

Call it at any time of the run, up to the end of pytest-ssot's own
``pytest_sessionfinish`` (``SsotSession``), which reports every failure collected
so far with :meth:`RunFailures.report`, before pytest's JUnit writer and terminal
summary run. A call after that is reported at once: it still reaches the final
line and the short summary, but maybe not a JUnit file that is already written.
Failures of the same ``check`` share one report (their titles and messages are
listed together), so node ids stay stable from run to run.

Under pytest-xdist only the controller reports: workers send their failures with
the rest of their output (see :meth:`RunFailures.to_wire` and
:meth:`RunFailures.merge_wire`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

PLUGIN_NAME = "ssot-run-failures"
NODEID_PREFIX = "pytest-ssot::"
_CHECK = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class RunFailure:
    """One failure of the run outside any test."""

    check: str
    """Short kebab-case name of what failed, e.g. ``hidden-folders``; the node id's tail."""
    title: str
    """One line: the reason shown in the short test summary and as JUnit's failure message."""
    message: str = ""
    """The full text of the failures section: what failed, where (``file:line``), what to
    do next. Empty: the title is shown instead."""


class _Crash:
    """What pytest reads as ``longrepr.reprcrash``: the one-line reason of the failure."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.path = "pytest-ssot"
        self.lineno = 0


class RunFailureText:
    """The ``longrepr`` of a run-level failure report: a title line and a message.

    pytest shows ``reprcrash.message`` in the short test summary and JUnit XML
    uses it as the failure message; ``toterminal`` writes the failures section.
    """

    def __init__(self, failures: list[RunFailure]) -> None:
        self.failures = failures
        title = failures[0].title
        if len(failures) > 1:
            title += f" (and {len(failures) - 1} more)"
        self.reprcrash = _Crash(title)

    def __str__(self) -> str:
        return "\n\n".join((f.message or f.title).rstrip() for f in self.failures)

    def toterminal(self, tw: Any) -> None:
        for line in str(self).splitlines():
            tw.line(line)


class RunFailures:
    """pytest hook object (``ssot-run-failures``) that holds the run-level failures."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.failures: list[RunFailure] = []
        self._reported: set[RunFailure] = set()
        self._session: pytest.Session | None = None
        """Set by ``report``: from then on, a new failure is reported at once."""

    def add(self, failure: RunFailure) -> None:
        if not _CHECK.match(failure.check):
            raise ValueError(f"run failure check {failure.check!r} must be kebab-case")
        if failure in self.failures:
            return  # the same failure twice (from two workers, or one check run twice)
        self.failures.append(failure)
        if self._session is not None:  # late: no progress letter, the summary may be under way
            self._report_each([failure], progress=False)
            self._fail(self._session)

    def report(self, session: pytest.Session) -> None:
        """Log every failure not yet logged as a failed test report; fail the exit status."""
        self._session = session
        self._report_each([f for f in self.failures if f not in self._reported])
        if self.failures:
            self._fail(session)

    @staticmethod
    def _fail(session: pytest.Session) -> None:
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _report_each(self, failures: Iterable[RunFailure], progress: bool = True) -> None:
        by_check: dict[str, list[RunFailure]] = {}
        for failure in failures:
            by_check.setdefault(failure.check, []).append(failure)
            self._reported.add(failure)
        if not by_check:
            return
        session = self._session
        if session is not None:
            # Counted like items, so pytest's progress stays at 100%, not 150%.
            session.testscollected += len(by_check)
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if progress and terminal is not None and self.config.get_verbosity() <= 0:
            # The progress letters on a line of their own, as for a test file.
            # (pytest-xdist's progress line leaves no current file: end it here.)
            if terminal.currentfspath:
                terminal.ensure_newline()
            else:
                terminal.write("\n")
            terminal.write("pytest-ssot ")
        for check, group in by_check.items():
            self.config.hook.pytest_runtest_logreport(report=_report(check, group))

    # -- pytest-xdist ------------------------------------------------------------

    def to_wire(self) -> list[dict[str, str]]:
        return [{"check": f.check, "title": f.title, "message": f.message} for f in self.failures]

    def merge_wire(self, data: Iterable[dict[str, str]]) -> None:
        for item in data:
            self.add(RunFailure(str(item["check"]), str(item["title"]), str(item["message"])))


def _report(check: str, failures: list[RunFailure]) -> pytest.TestReport:
    nodeid = NODEID_PREFIX + check
    now = time.time()
    return pytest.TestReport(
        nodeid=nodeid,
        location=("pytest-ssot", None, nodeid),
        keywords={"pytest-ssot": 1, "pytest_ssot": 1, check: 1},
        outcome="failed",
        longrepr=RunFailureText(failures),  # type: ignore[arg-type]
        when="call",
        start=now,
        stop=now,
    )


def report_run_failure(config: pytest.Config, check: str, title: str, message: str = "") -> None:
    """Make this ``--ssot`` run fail for a reason outside any test, and say so.

    ``check`` is a short kebab-case name (``hidden-folders``, ``baseline-write``):
    the report's node id is ``pytest-ssot::<check>``. ``title`` is one line, the
    reason in the short test summary and JUnit XML; ``message`` the full text
    of the failures section (what, where, what to do next; the title when empty).
    See the module docstring for when it is shown.
    Raises ``RuntimeError`` when pytest-ssot is not on in this run.
    """
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if not isinstance(plugin, RunFailures):
        raise RuntimeError("report_run_failure needs a run with --ssot")
    plugin.add(RunFailure(check, title, message))
