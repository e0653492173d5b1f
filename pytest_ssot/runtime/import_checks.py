"""pytest hook object for what the static import graph cannot see.

Three checks, all on with ``--ssot`` (docs/runtime-imports.md):

- dynamic imports: first loads of modules the contracts forbid, attributed to
  the collection, fixture or test during which they happen;
- one file loaded as two modules: after collection and at session end;
- folders without ``__init__.py`` inside the root packages: once per session.

Findings go through the ``FindingsReporter``: a finding made during a test
fails that test's phase, one made outside tests fails the session, and one
configured to warn becomes a pytest warning.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import linecache
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.layout import HiddenFolder, ProjectLayout, find_hidden_folders
from pytest_ssot.model import ERROR, WARNING, ContractSpec, Finding, Phase
from pytest_ssot.runtime.findings import DYNAMIC_IMPORT, FindingsReporter
from pytest_ssot.runtime.modules import DoubleLoad, find_double_loads
from pytest_ssot.runtime.phase import PhaseTracker
from pytest_ssot.settings import FAIL, OFF, REPORT, WARN, RuntimeSettings

if TYPE_CHECKING:  # imported when the watcher is built: --ssot-only runs without it
    from pytest_ssot.runtime.imports import ImportWatcher, LoadEvent
    from pytest_ssot.runtime.rules import Breach, ImportRule, RuleBook

DOUBLE_LOAD_RULE = "ssot:double-load"
HIDDEN_FOLDER_RULE = "ssot:hidden-folders"
"""Baseline keys of the checks that are not contracts (contract ids cannot contain ':')."""

DEFAULT_GUIDANCE = (
    "Load the module the contract allows instead. If this import is allowed for now, freeze "
    "it in the baseline, list it in the contract's ignore_imports, or in the ini option "
    "ssot_runtime_imports_ignore."
)
SHOWN_FOLDERS = 20

FrozenPredicate = Callable[[str, str], bool]


def never_frozen(contract_id: str, fingerprint: str) -> bool:
    return False


@dataclass(frozen=True)
class Observed:
    """A runtime finding before the baseline: what --ssot-baseline-update would freeze."""

    rule: str
    fingerprint: str
    frozen: bool


# ---------------------------------------------------------------------------
# The hook object


class RuntimeImportChecks:
    def __init__(
        self,
        config: pytest.Config,
        settings: RuntimeSettings,
        specs: Iterable[ContractSpec],
        phases: PhaseTracker,
        findings: FindingsReporter,
        *,
        is_frozen: FrozenPredicate = never_frozen,
        watch_imports: bool = True,
    ) -> None:
        """``watch_imports=False`` (``--ssot-only``: no test module is imported and no test
        runs) leaves out the import watcher and its rules; the other two checks remain."""
        specs = list(specs)
        self.config = config
        self.rootdir = Path(config.rootpath)
        self.settings = settings
        self.phases = phases
        self.findings = findings
        self.is_frozen = is_frozen
        """(rule id, fingerprint) -> frozen by the baseline; the session may replace it."""
        roots = sorted({r for s in specs for r in s.session.root_packages})
        self.layout = ProjectLayout.discover(self.rootdir, roots)
        self.book: RuleBook | None = None
        self.observed: list[Observed] = []
        self.load_kinds: dict[tuple[str, str, str], str] = {}
        """Forbidden loads seen, by (module, phase, test): 'failing', 'warned' or 'in the
        baseline'. Keyed so that the xdist controller counts once a load every worker makes
        (a module loaded while each worker collects the same test module)."""
        self._lock = threading.Lock()
        self.preloaded: list[str] = []
        self.hidden: list[HiddenFolder] = []
        self.hidden_allowed = 0
        self._double_reported: set[str] = set()
        self.watcher: ImportWatcher | None = None
        if watch_imports:
            self._build_watcher(specs)

    def _build_watcher(self, specs: list[ContractSpec]) -> None:
        from pytest_ssot.runtime.imports import ImportWatcher
        from pytest_ssot.runtime.rules import build_rules

        enabled = {s.id: self.settings.mode_for(s.id) != OFF for s in specs}
        watch = self.settings.watch if self.settings.imports != OFF else ()
        self.book = build_rules(specs, enabled=enabled, watch=watch)
        if self.book.rules:
            name_filter = self.book.name_filter()
            self.watcher = ImportWatcher(
                name_filter,
                self.layout,
                self._on_load,
                roots=None if name_filter.everything else name_filter.roots,
            )

    # -- installation -------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        # Called when the session registers us (pytest_configure is historic).
        if self.watcher is None or self.book is None:
            return
        book = self.book
        self.preloaded = sorted(
            name for name in list(sys.modules) if any(rule.is_target(name) for rule in book.rules)
        )
        self.watcher.install()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # Runs after Ctrl-C and internal errors too.
        if self.watcher is not None:
            self.watcher.uninstall()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.watcher is not None:
            self.watcher.ensure_first()

    # -- dynamic imports ------------------------------------------------------------

    def _on_load(self, event: LoadEvent) -> None:
        info = event.importer
        breaches: list[tuple[ImportRule, Breach]] = []
        assert self.book is not None  # the watcher exists only with its rules
        for rule in self.book.rules:
            outside = info.root is None or info.root not in rule.roots
            if rule.statically_checked:
                if outside and not self.settings.outside_is_source(rule.id):
                    continue
                if not outside and info.in_graph and event.import_statement:
                    continue  # an import statement the graph has: the contract item reports it
            breach = rule.judge(info.module, event.module, outside=outside)
            if breach is None:
                continue
            if any(e.matches(breach.importer, breach.imported) for e in self.settings.ignore):
                continue
            breaches.append((rule, breach))
        if not breaches or not event.confirm() or event.superseded():
            # Nothing forbidden; or the module does not exist and nothing was loaded; or
            # the package of "from package import submodule", whose load is reported.
            return
        by_mode: dict[str, list[tuple[ImportRule, Breach]]] = {}
        frozen_found: list[tuple[ImportRule, Breach]] = []
        with self._lock:  # imports may happen in several threads
            for rule, breach in breaches:
                frozen = self.is_frozen(rule.id, breach.fingerprint)
                self.observed.append(Observed(rule.id, breach.fingerprint, frozen))
                if frozen:
                    frozen_found.append((rule, breach))
                else:
                    by_mode.setdefault(self.settings.mode_for(rule.id), []).append((rule, breach))
            phase = self.phases.current
            identity = (event.module, phase.when, phase.nodeid)
            if not by_mode:
                self.load_kinds[identity] = "in the baseline"
            else:
                self.load_kinds[identity] = "warned" if set(by_mode) == {WARN} else "failing"
        # One finding per load (and mode), naming every contract it breaks.
        for mode, found in by_mode.items():
            self.findings.record(self._finding(found, event, mode))
        if frozen_found:  # fails nothing, but the reports show it as frozen
            frozen_finding = self._finding(frozen_found, event, FAIL)
            self.findings.record(dataclasses.replace(frozen_finding, frozen=True))

    def _finding(
        self, found: list[tuple[ImportRule, Breach]], event: LoadEvent, mode: str
    ) -> Finding:
        from pytest_ssot.runtime.rules import WatchRule  # loaded with the watcher

        info = event.importer
        phase = self.phases.current
        breach = found[0][1]
        source = linecache.getline(info.path, event.line).strip()
        lines = [
            f"  {info.display}:{event.line}  {source}".rstrip(),
            f"  During {phase.describe()}.",
        ]
        whys: list[str] = []
        for rule, each in found:
            if isinstance(rule, WatchRule):
                lines.append(f"  {each.reason}.")
            else:
                lines.append(f"  Contract {rule.id!r} ({rule.type}, {rule.location}): {rule.name}")
                lines.append(f"    {each.reason}.")
                guidance = (rule.guidance or DEFAULT_GUIDANCE).strip().splitlines()
                lines.append(f"    What to do: {guidance[0]}")
                lines.extend(f"    {line}" for line in guidance[1:])
            why = self._why(rule, event)
            if why not in whys:
                whys.append(why)
        lines.extend(f"  Not seen by the static check: {why}." for why in whys)
        names = [
            "ssot_watch_modules" if isinstance(rule, WatchRule) else repr(rule.id)
            for rule, _ in found
        ]
        contracts = all(not isinstance(rule, WatchRule) for rule, _ in found)
        noun = ("contract " if len(found) == 1 else "contracts ") if contracts else ""
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        forbids = f"{noun}{listed} forbid{'s' if len(found) == 1 else ''}"
        return Finding(
            check=DYNAMIC_IMPORT,
            rule=found[0][0].id,
            summary=f"{breach.importer} loaded {breach.imported}, which {forbids}",
            details="\n".join(lines),
            phase=phase,
            fingerprint=breach.fingerprint,
            severity=WARNING if mode == WARN else ERROR,
            file=info.display,
            line=event.line,
        )

    def _why(self, rule: ImportRule, event: LoadEvent) -> str:
        from pytest_ssot.runtime.rules import WatchRule  # loaded with the watcher

        info = event.importer
        if not event.import_statement:
            return (
                "a dynamic import (importlib.import_module, __import__, exec of an import "
                "string, a mock.patch target...); import-linter reads only import statements"
            )
        if isinstance(rule, WatchRule):
            return "no contract covers ssot_watch_modules; every load by project code counts"
        if info.root is None or info.root not in rule.roots:
            roots = ", ".join(sorted(rule.roots))
            return f"{info.display} is outside the root packages ({roots}), so no graph has it"
        return (
            f"{info.display} is inside {info.hidden_folder}/, a folder without __init__.py "
            "that the import graph skips"
        )

    # -- one file, two modules ------------------------------------------------------

    def _double_allowed(self, name: str) -> bool:
        return any(e.matches(name) for e in self.settings.double_load_allow)

    def check_double_loads(self, phase: Phase) -> list[DoubleLoad]:
        if self.settings.double_load == OFF:
            return []
        found = find_double_loads(
            sys.modules, self.layout, sys_path=list(sys.path), allowed=self._double_allowed
        )
        new = [d for d in found if d.fingerprint not in self._double_reported]
        for double in new:
            self._double_reported.add(double.fingerprint)
            frozen = self.is_frozen(DOUBLE_LOAD_RULE, double.fingerprint)
            self.observed.append(Observed(DOUBLE_LOAD_RULE, double.fingerprint, frozen))
            finding = self._double_finding(double, phase)
            if frozen:  # fails nothing and warns of nothing; the reports show it as frozen
                finding = dataclasses.replace(finding, frozen=True, severity=ERROR)
            self.findings.record(finding)
        return new

    def _double_finding(self, double: DoubleLoad, phase: Phase) -> Finding:
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
        self.check_double_loads(Phase("collection"))

    # -- folders the graph cannot see ----------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.settings.hidden_folders == OFF:
            return
        for folder in find_hidden_folders(self.layout):
            if any(
                fnmatch.fnmatchcase(folder.display, p) for p in self.settings.hidden_folders_allow
            ):
                self.hidden_allowed += 1
                continue
            failing = self.settings.hidden_folders == FAIL
            if failing:  # only a failure is something the baseline can freeze
                frozen = self.is_frozen(HIDDEN_FOLDER_RULE, folder.fingerprint)
                self.observed.append(Observed(HIDDEN_FOLDER_RULE, folder.fingerprint, frozen))
                if frozen:
                    self.hidden_allowed += 1
                    continue
            self.hidden.append(folder)
            if failing:
                self.findings.record(
                    Finding(
                        check="hidden-folder",
                        rule=HIDDEN_FOLDER_RULE,
                        summary=f"{folder.display}/ holds {_files(folder.files)} but no "
                        "__init__.py: no contract sees their imports",
                        details="",
                        phase=Phase("scan"),
                        fingerprint=folder.fingerprint,
                        file=folder.display,
                    )
                )

    # -- what is on -----------------------------------------------------------------

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding in this run."""
        on = set()
        if self.watcher is not None:
            on.add(DYNAMIC_IMPORT)
        if self.settings.double_load != OFF:
            on.add("double-load")
        if self.settings.hidden_folders == FAIL:  # "report" only counts them in the summary
            on.add("hidden-folder")
        return on

    # -- summary --------------------------------------------------------------------

    def summary_state(self) -> dict[str, Any]:
        """The counts the summary shows, as JSON-able data (sent by xdist workers)."""
        return {
            "loads": [[*identity, kind] for identity, kind in self.load_kinds.items()],
            "preloaded": list(self.preloaded),
        }

    @property
    def loads(self) -> Counter[str]:
        """How many forbidden loads of each kind ('failing', 'warned', 'in the baseline')."""
        return Counter(self.load_kinds.values())

    def merge_state(self, state: dict[str, Any]) -> None:
        """On the xdist controller: add one worker's load counts to the summary."""
        for module, when, nodeid, kind in state.get("loads", ()):
            self.load_kinds[str(module), str(when), str(nodeid)] = str(kind)
        for name in state.get("preloaded", ()):
            if name not in self.preloaded:
                self.preloaded.append(name)

    def summary_lines(self, verbose: bool = False) -> list[str]:
        lines: list[str] = []
        loads = self.loads
        total = sum(loads.values())
        if total:
            counts = ", ".join(f"{loads[k]} {k}" for k in ("failing", "warned", "in the baseline"))
            plural = "s" if total != 1 else ""
            lines.append(f"runtime imports: {total} forbidden load{plural} ({counts})")
        for spec, reason in self.book.skipped if self.book is not None else ():
            if verbose:
                lines.append(f"runtime imports: contract {spec.id!r} is not checked: {reason}")
        if self.preloaded:
            names = ", ".join(self.preloaded[:5]) + (", ..." if len(self.preloaded) > 5 else "")
            lines.append(
                f"runtime imports: {len(self.preloaded)} forbidden module"
                f"{'s were' if len(self.preloaded) != 1 else ' was'} loaded before the watcher "
                f"started (by plugins or conftest files); loads of them are not seen: {names}"
            )
        if self.watcher is not None and self.watcher.errors:
            lines.append(f"runtime imports: the watcher failed {len(self.watcher.errors)} times:")
            lines.extend(f"  {error}" for error in self.watcher.errors[:5])
        if self.hidden and self.settings.hidden_folders == REPORT:
            total = sum(h.files for h in self.hidden)
            lines.append(
                f"hidden folders: {len(self.hidden)} folder{'s' if len(self.hidden) != 1 else ''}"
                f" inside the root packages hold{'s' if len(self.hidden) == 1 else ''} .py files "
                f"but no __init__.py; the import graph cannot see {_files(total)}:"
            )
            shown = self.hidden if verbose else self.hidden[:SHOWN_FOLDERS]
            for folder in shown:
                lines.append(f"  {folder.display}/ ({_files(folder.files)})")
            if len(shown) < len(self.hidden):
                lines.append(f"  ... and {len(self.hidden) - len(shown)} more (-v lists all)")
            if self.hidden_allowed:
                lines.append(
                    f"  ({self.hidden_allowed} more allowed by ssot_hidden_folders_allow or the "
                    "baseline.)"
                )
            lines.append(
                "  Add an __init__.py to each (or set ssot_hidden_folders = fail to make this "
                "a failure)."
            )
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.summary_lines(verbose=self.config.get_verbosity() > 0)
        if not lines:
            return
        terminalreporter.section("pytest-ssot runtime")
        for line in lines:
            terminalreporter.write_line(line)


def _files(count: int) -> str:
    return f"{count} .py file{'s' if count != 1 else ''}"
