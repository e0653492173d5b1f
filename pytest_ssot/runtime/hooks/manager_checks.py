"""The pytest side of the manager checks: the opt-out marker, the fixture, the summary.

Registered (as ``ssot-managers``) by the per-run session object when ``--ssot``
is on. It reads the ``[[tool.ssot.managers]]`` declarations at configure time,
so the declared classes are watched before the first test module is imported,
and puts every wrapped constructor back in ``pytest_unconfigure``, which pytest
runs after Ctrl-C and internal errors too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import pytest

from pytest_ssot.findings import FindingsReporter
from pytest_ssot.managers import DECLARATION, ManagerSpec
from pytest_ssot.model import Finding
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime.hooks.isolation_checks import ALLOW_MARKER as ALLOW_SHARED_MARKER
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.runtime.instances.counting import class_names
from pytest_ssot.runtime.instances.records import InstanceRecord
from pytest_ssot.runtime.instances.report import BYPASS, DUPLICATE
from pytest_ssot.runtime.instances.tracker import InstanceTracker
from pytest_ssot.runtime.isolation.report import OUTLIVED, SHARED, UNMATCHED_SHARED_OK, SharedPair
from pytest_ssot.settings import Settings

ALLOW_MARKER = "pytest_ssot_allow_duplicates"
PLUGIN_NAME = "ssot-managers"
FIXTURE = "ssot_instances"
_ANY: Any = object()
_SHOWN_KEYS = 5


class _Query:
    """Questions about a set of instance records (see ``InstancesView`` and ``Watch``)."""

    def __init__(self, tracker: InstanceTracker) -> None:
        self._tracker = tracker

    def _all(self) -> list[InstanceRecord]:
        raise NotImplementedError

    def records(self, manager: str | None = None, *, key: Hashable = _ANY) -> list[InstanceRecord]:
        """The instances counted, oldest first; ``manager`` and ``key`` narrow them down."""
        if manager is not None:
            self._tracker.rule(manager)  # ValueError for a manager that is not declared
        return [
            r
            for r in self._all()
            if (manager is None or r.manager == manager) and (key is _ANY or r.key == key)
        ]

    def count(self, manager: str | None = None, *, key: Hashable = _ANY) -> int:
        """How many instances were created (alive or not)."""
        return len(self.records(manager, key=key))

    def live(self, manager: str | None = None, *, key: Hashable = _ANY) -> list[Any]:
        """The instances still alive (weakly referenceable ones only)."""
        found = (r.instance() for r in self.records(manager, key=key))
        return [obj for obj in found if obj is not None]

    def keys(self, manager: str) -> list[Hashable]:
        """The distinct keys, in creation order."""
        return list(dict.fromkeys(r.key for r in self.records(manager)))


class Watch(_Query):
    """The instances created inside one ``with ssot_instances.watch():`` block."""

    def __init__(self, tracker: InstanceTracker, view: InstancesView) -> None:
        super().__init__(tracker)
        self._view = view
        self._start = len(view.records())
        self._end: int | None = None

    def _all(self) -> list[InstanceRecord]:
        return self._view.records()[self._start : self._end]

    def _close(self) -> None:
        self._end = len(self._view.records())


class InstancesView(_Query):
    """The ``ssot_instances`` fixture: what this test created of the declared managers."""

    def __init__(
        self,
        tracker: InstanceTracker,
        findings: FindingsReporter,
        nodeid: str,
        shared_now: Callable[[str | None], list[SharedPair]] | None = None,
    ) -> None:
        super().__init__(tracker)
        self._findings = findings
        self._shared_now = shared_now
        self.nodeid = nodeid

    def _all(self) -> list[InstanceRecord]:
        return self._tracker.records_for(self.nodeid)

    @contextlib.contextmanager
    def watch(self) -> Iterator[Watch]:
        """``with ssot_instances.watch() as made: ...`` then ask ``made.count(...)``."""
        watch = Watch(self._tracker, self)
        try:
            yield watch
        finally:
            watch._close()

    @property
    def findings(self) -> list[Finding]:
        """The manager findings made in this test so far (allowed ones included)."""
        checks = (DUPLICATE, BYPASS, DECLARATION, SHARED, OUTLIVED)
        return [f for f in self._findings.for_test(self.nodeid) if f.check in checks]

    def shared_state(self, manager: str | None = None) -> list[SharedPair]:
        """What instances of different keys share right now (``shared_ok`` paths left out).

        Walks the live instances when called, without reporting anything: assert on it
        (``assert not ssot_instances.shared_state("websocket-manager")``) or look at the
        keys, paths and types of what is shared. Empty for managers without a key.
        """
        if manager is not None:
            self._tracker.rule(manager)  # ValueError for a manager that is not declared
        if self._shared_now is None:
            return []
        return self._shared_now(manager)

    @property
    def managers(self) -> list[str]:
        return [rule.spec.name for rule in self._tracker.rules]


class ManagerChecks:
    """pytest hook object for the declared managers."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        specs: Sequence[ManagerSpec],
        phases: PhaseTracker,
        findings: FindingsReporter,
        shared_now: Callable[[str | None], list[SharedPair]] | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.findings = findings
        self.shared_now = shared_now
        """The isolation check's on-demand walk, for ``ssot_instances.shared_state()``."""
        self.merged: dict[str, dict[str, Any]] = {}
        """Per-manager summary state sent by pytest-xdist workers (on the controller)."""
        files = ProjectFiles(settings.rootdir, test_patterns=settings.python_files)
        self.tracker = InstanceTracker(list(specs), phases, findings.record, files)
        self.tracker.install()

    def view(self, nodeid: str) -> InstancesView:
        self.tracker.keep_records(nodeid)  # from now on, if not from the start of the setup
        return InstancesView(self.tracker, self.findings, nodeid, self.shared_now)

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding in this run."""
        if not self.tracker.rules or self.config.getoption("ssot_only", False):
            return set()  # nothing declared, or no test runs
        on = {DUPLICATE, DECLARATION}
        if any(rule.spec.factories for rule in self.tracker.rules):
            on.add(BYPASS)
        return on

    # -- hooks ----------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if FIXTURE in getattr(item, "fixturenames", ()):
            # Records are kept only for the tests that can ask for them.
            self.tracker.keep_records(item.nodeid)
        self.findings.allow_marked(item, ALLOW_MARKER, (DUPLICATE, BYPASS), self.tracker.rule)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.tracker.end_test(nodeid)

    def pytest_unconfigure(self) -> None:
        self.tracker.uninstall()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.tracker.rules or self.settings.only:
            return  # nothing declared, or no test ran
        terminalreporter.section("pytest-ssot managers")
        if self.config.pluginmanager.hasplugin("dsession") and not self.merged:
            terminalreporter.write_line(
                "(counted in the pytest-xdist workers, none of which reported counts)"
            )
            return
        for line in self.summary_lines():
            terminalreporter.write_line(line)

    def summary_state(self) -> list[dict[str, Any]]:
        """What the summary says, per manager, as JSON-able data (sent by xdist workers)."""
        states = []
        for rule in self.tracker.rules:
            spec = rule.spec
            states.append(
                {
                    "name": spec.name,
                    "created_in_tests": dict(rule.created_in_tests),
                    "created_outside": [
                        [origin, path, count]
                        for (origin, path), count in rule.created_outside.items()
                    ],
                    "peak": {repr(key): peak for key, peak in rule.peak.items()},
                    "untrackable": sorted(rule.untrackable),
                    "unusable": [p.text for p in spec.classes if p.text in rule.unusable],
                    "unimported": [
                        p.text
                        for p in spec.classes
                        if p.text not in rule.instrumented and p.text not in rule.unusable
                    ],
                }
            )
        return states

    def merge_state(self, states: list[dict[str, Any]]) -> None:
        """On the xdist controller: add one worker's counts to the summary.

        Instances created in tests are summed (each test runs in one worker); those created
        outside tests (imports, collection, wider fixtures) happen in every worker that goes
        through the same origin, so the highest count per origin is kept.
        """
        for state in states:
            mine = self.merged.get(state["name"])
            if mine is None:
                self.merged[state["name"]] = {
                    **state,
                    "created_in_tests": dict(state["created_in_tests"]),
                    "created_outside": [list(entry) for entry in state["created_outside"]],
                    "peak": dict(state["peak"]),
                }
                continue
            for path, count in state["created_in_tests"].items():
                mine["created_in_tests"][path] = mine["created_in_tests"].get(path, 0) + count
            outside = {(o, p): n for o, p, n in mine["created_outside"]}
            for origin, path, count in state["created_outside"]:
                outside[origin, path] = max(count, outside.get((origin, path), 0))
            mine["created_outside"] = [[o, p, n] for (o, p), n in outside.items()]
            for key, peak in state["peak"].items():
                mine["peak"][key] = max(peak, mine["peak"].get(key, 0))
            mine["untrackable"] = sorted({*mine["untrackable"], *state["untrackable"]})
            mine["unusable"] = sorted({*mine["unusable"], *state["unusable"]})
            # Not imported in this run: in no worker.
            mine["unimported"] = [c for c in mine["unimported"] if c in state["unimported"]]

    def summary_lines(self) -> list[str]:
        lines: list[str] = []
        states = {s["name"]: s for s in self.summary_state()}
        states.update(self.merged)
        for rule in self.tracker.rules:
            spec = rule.spec
            state = states[spec.name]
            lines.append(f"{spec.name}: {spec.describe_rule()}")
            created = _created_by_class(state)
            if created:
                names = class_names(created)
                by_class = ", ".join(sorted(f"{names[p]}: {n}" for p, n in created.items()))
                lines.append(f"  created {sum(created.values())} ({by_class})")
                peaks = sorted(state["peak"].items(), key=lambda kv: (-kv[1], kv[0]))
                if spec.key is not None:
                    shown = ", ".join(f"{key}: {peak}" for key, peak in peaks[:_SHOWN_KEYS])
                    more = (
                        f" and {len(peaks) - _SHOWN_KEYS} more" if len(peaks) > _SHOWN_KEYS else ""
                    )
                    lines.append(f"  peak live per {spec.key.text}: {shown}{more}")
                else:
                    lines.append(f"  peak live: {peaks[0][1] if peaks else 0}")
            else:
                lines.append("  created 0")
            lines.extend(self._violation_lines(spec.name))
            for name in state["untrackable"]:  # module:qualname
                lines.append(f"  {name} does not support weak references: counted by construction")
            if state["unusable"]:
                unusable = ", ".join(state["unusable"])
                lines.append(f"  not watched (see the declaration findings): {unusable}")
            if state["unimported"]:
                lines.append(f"  not imported in this run: {', '.join(state['unimported'])}")
        for problem in self.tracker.restore_problems:
            lines.append(f"note: {problem}")
        return lines

    def _violation_lines(self, name: str) -> list[str]:
        found = [f for f in self.findings.findings if f.rule == name]
        parts = []
        for check, label, marker in (
            (DUPLICATE, "duplicate", ALLOW_MARKER),
            (BYPASS, "bypassing the factories", ALLOW_MARKER),
            (DECLARATION, "declaration problem", ALLOW_MARKER),
            (SHARED, "shared between keys", ALLOW_SHARED_MARKER),
            (OUTLIVED, "outliving its test", ALLOW_SHARED_MARKER),
            (UNMATCHED_SHARED_OK, "shared_ok matching nothing", ALLOW_SHARED_MARKER),
        ):
            of_check = [f for f in found if f.check == check and f.severity == "error"]
            if not of_check:
                continue
            allowed = sum(1 for f in of_check if self.findings.allowed(f))
            text = f"{len(of_check)} {label}"
            if allowed:
                text += f" ({allowed} allowed by @{marker})"
            parts.append(text)
        return [f"  violations: {', '.join(parts) if parts else 'none'}"]


def _created_by_class(state: dict[str, Any]) -> dict[str, int]:
    """Class path -> instances created, from one manager's (merged) summary state."""
    found: dict[str, int] = dict(state["created_in_tests"])
    for _, path, count in state["created_outside"]:
        found[path] = found.get(path, 0) + count
    return found
