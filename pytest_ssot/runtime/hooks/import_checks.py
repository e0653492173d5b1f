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
import linecache
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ssot.findings import DYNAMIC_IMPORT, FindingsReporter
from pytest_ssot.layout import ProjectLayout
from pytest_ssot.model import ERROR, WARNING, ContractSpec, Finding
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.settings import FAIL, OFF, WARN, RuntimeSettings

if TYPE_CHECKING:  # imported when the watcher is built: --ssot-only runs without it
    from pytest_ssot.runtime.imports import ImportWatcher, LoadEvent
    from pytest_ssot.runtime.rules import Breach, ImportRule, RuleBook

DEFAULT_GUIDANCE = (
    "Load the module the contract allows instead. If this import is allowed for now, freeze "
    "it in the baseline, list it in the contract's ignore_imports, or in the ini option "
    "ssot_runtime_imports_ignore."
)

FrozenPredicate = Callable[[str, str], bool]


def never_frozen(contract_id: str, fingerprint: str) -> bool:
    return False


# ---------------------------------------------------------------------------
# The hook object


class RuntimeImportChecks:
    """pytest hook object: first loads of modules the contracts forbid, while the tests run."""

    def __init__(
        self,
        config: pytest.Config,
        settings: RuntimeSettings,
        specs: Iterable[ContractSpec],
        layout: ProjectLayout,
        phases: PhaseTracker,
        findings: FindingsReporter,
        *,
        is_frozen: FrozenPredicate = never_frozen,
        more_lines: Callable[[], list[str]] = list,
    ) -> None:
        specs = list(specs)
        self.config = config
        self.settings = settings
        self.layout = layout
        self.phases = phases
        self.findings = findings
        self.is_frozen = is_frozen
        """(rule id, fingerprint) -> frozen by the baseline."""
        self.more_lines = more_lines
        """Lines of the other checks for this summary section (the hidden folders)."""
        self.book: RuleBook | None = None
        self.observed: list[tuple[str, str]] = []
        """(rule, fingerprint) of each forbidden load, frozen or not: what an update freezes."""
        self.load_kinds: dict[tuple[str, str, str], str] = {}
        """Forbidden loads seen, by (module, phase, test): 'failing', 'warned' or 'in the
        baseline'. Keyed so that the xdist controller counts once a load every worker makes
        (a module loaded while each worker collects the same test module)."""
        self._lock = threading.Lock()
        self.preloaded: list[str] = []
        self.watcher: ImportWatcher | None = None
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
                self.observed.append((rule.id, breach.fingerprint))
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

    # -- what is on -----------------------------------------------------------------

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding in this run."""
        return {DYNAMIC_IMPORT} if self.watcher is not None else set()

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
        lines.extend(self.more_lines())
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.summary_lines(verbose=self.config.get_verbosity() > 0)
        if not lines:
            return
        terminalreporter.section("pytest-ssot runtime")
        for line in lines:
            terminalreporter.write_line(line)
