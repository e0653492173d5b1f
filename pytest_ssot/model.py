"""The domain model: what a contract is, what checking it found, what went wrong.

Plain frozen dataclasses with no behaviour beyond derived properties. Every other
module speaks in these terms; nothing here imports pytest, import-linter or grimp.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SsotError(Exception):
    """A problem the user must fix, with a message that says how.

    Raised for bad configuration, contracts that cannot be checked and graphs
    that cannot be built. The plugin shows ``str(error)`` without a traceback.
    """


class ConfigError(SsotError):
    """A contract source (an ini option, a config file) is unusable."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class ContractError(SsotError):
    """One contract cannot be checked (unknown type, invalid options, missing module)."""


class GraphError(SsotError):
    """The import graph for a set of root packages cannot be built."""


@dataclass(frozen=True, order=True)
class GraphKey:
    """What makes two contracts able to share one import graph.

    The root packages and the two session options that change the graph; contracts
    with equal keys are checked against one graph, built once. Made by
    ``SessionOptions.graph_key``; the static checker and the result cache key on it.
    """

    root_packages: tuple[str, ...]
    include_external_packages: bool = False
    exclude_type_checking_imports: bool = False

    def describe(self) -> str:
        extras = []
        if self.include_external_packages:
            extras.append("with external packages")
        if self.exclude_type_checking_imports:
            extras.append("without TYPE_CHECKING imports")
        suffix = f" ({', '.join(extras)})" if extras else ""
        return ", ".join(self.root_packages) + suffix


@dataclass(frozen=True)
class SessionOptions:
    """The ``[importlinter]`` session options that apply to one contract source."""

    raw: Mapping[str, Any]
    root_packages: tuple[str, ...]
    include_external_packages: bool = False
    exclude_type_checking_imports: bool = False
    contract_types: tuple[str, ...] = ()

    @property
    def graph_key(self) -> GraphKey:
        return GraphKey(
            tuple(sorted(self.root_packages)),
            self.include_external_packages,
            self.exclude_type_checking_imports,
        )


@dataclass(frozen=True)
class ContractSpec:
    """One contract as written in a config file, before anything is checked.

    Holds its id, name, type and raw options, where it was written (file and line,
    for messages and the pytest node id) and the session options it runs under.
    Made by ``sources.load_sources`` from each contract file; every later stage
    (items, the checker, the baseline, the reports) refers to a contract by it.
    """

    id: str
    name: str
    type: str
    options: Mapping[str, Any]
    source_path: Path
    source_display: str
    line: int
    session: SessionOptions

    @property
    def nodeid(self) -> str:
        return f"{self.source_display}::{self.id}"

    @property
    def location(self) -> str:
        return f"{self.source_display}:{self.line}" if self.line else self.source_display

    @property
    def guidance(self) -> str | None:
        value = self.options.get("broken_contract_guidance")
        if isinstance(value, list):
            value = "\n".join(value)
        return str(value).strip() or None if value else None


@dataclass(frozen=True)
class ContractSource:
    """One file that contributes contracts: its session options and its contracts.

    Made by ``sources`` when it loads the file (one per ``LoadedFile`` that has no
    error); the session turns each into a pytest collector of contract items.
    """

    path: Path
    display: str
    session: SessionOptions
    contracts: tuple[ContractSpec, ...]


@dataclass(frozen=True)
class Hop:
    """One direct import inside a chain: importer, imported, the lines and file of the import.

    Made by the adapter from import-linter's report (and by the SSOT contract types);
    a ``Violation`` holds the chain as a tuple of hops.
    """

    importer: str
    imported: str
    line_numbers: tuple[int, ...] = ()
    importer_file: str | None = None
    """The importer's source file, relative to the rootdir when possible."""
    via: str | None = None
    """For an import seen only in a call that loads a module by name:
    ``importlib.import_module, line 12`` (see ssot_static_dynamic_imports)."""


@dataclass(frozen=True)
class Violation:
    """One thing a contract forbids and the code does.

    ``importer`` and ``imported`` are the two ends of the offending chain: they,
    with the kind, make the fingerprint that survives unrelated edits (line
    numbers and intermediate modules are not part of it).

    Made by the adapter (from import-linter's report) and by our own contract
    types; the baseline stores fingerprints, the reports and the fixer read the hops.
    """

    kind: str
    importer: str
    imported: str
    hops: tuple[Hop, ...] = ()
    heading: str = ""
    """Groups violations in the output, e.g. 'app.routes is not allowed to import app.legacy'."""
    message: str = ""
    """Text for violations that are not import chains (a cycle, an undeclared module)."""
    file: str | None = None
    """Where a violation that is not an import chain stands (a definition, a module)."""
    line: int | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}: {self.importer} -> {self.imported}"

    @property
    def site(self) -> tuple[str | None, int | None]:
        """Where to look first: the first hop's importing file and line, or the finding's own."""
        if not self.hops:
            return self.file, self.line
        first = self.hops[0]
        return first.importer_file, (first.line_numbers[0] if first.line_numbers else None)

    @property
    def chain_text(self) -> str:
        """'a -> b -> c' for a chain; the message for a finding that is not one."""
        if not self.hops:
            return self.message or self.fingerprint
        return " -> ".join(
            [
                self.hops[0].importer,
                *(f"{hop.imported} ({hop.via})" if hop.via else hop.imported for hop in self.hops),
            ]
        )

    @property
    def package(self) -> str:
        """The importer's parent package, for digests of long lists."""
        return self.importer.rpartition(".")[0] or self.importer


@dataclass(frozen=True)
class DynamicImport:
    """A module loaded by name (``importlib.import_module("app.x")``), found in the source."""

    importer: str
    imported: str
    line: int
    loader: str
    """The function called, e.g. ``importlib.import_module``."""
    text: str = ""
    """The source line."""

    @property
    def label(self) -> str:
        """How a chain names it: ``importlib.import_module, line 12``."""
        return f"{self.loader.removeprefix('builtins.')}, line {self.line}"


@dataclass(frozen=True)
class GraphStats:
    """What building (or reusing) one import graph cost and found.

    One per ``GraphKey``: module and import counts, build time, and what the
    dynamic-import scan added or could not resolve. Made by the static checker when
    it builds a graph (or reads a cached one); shown in the summary and the JSON
    report, and carried across xdist workers by ``serialize``.
    """

    key: GraphKey
    modules: int
    imports: int
    build_ms: float
    from_cache: bool = False
    dynamic_imports: int | None = None
    """Imports added from calls that load a module by name; None when that scan is off."""
    unresolved: tuple[str, ...] = ()
    """Such calls whose module name is computed: ``file:line: call``."""
    changed_files: int = 0
    """With ``from_cache``: files edited since the stored results without changing an import."""
    dynamic_added: tuple[str, ...] = ()
    """The imports added: ``file:line: importer -> imported (loader)``."""


@dataclass(frozen=True)
class RedundantIgnore:
    """An ``ignore_imports`` entry that matches imports but no longer changes the verdict."""

    expression: str
    """The entry as the contract states it (``importer -> imported``)."""
    reason: str
    """``shadowed`` (every import it matches is ignored by another entry too) or ``no-effect``
    (removing it adds no violation)."""
    imports: tuple[str, ...] = ()
    """The imports only this entry ignores, ``importer -> imported``."""
    shadowed_by: tuple[str, ...] = ()
    """For ``shadowed``: the entries that ignore its imports too."""


@dataclass(frozen=True)
class RawResult:
    """What a graph backend's check of one contract gives, before the checker adds the
    files of the chains and the ignore entries that no longer matter."""

    kept: bool
    violations: tuple[Violation, ...]
    warnings: tuple[str, ...]
    ignored_import_count: int
    fallback_text: str
    """The contract type's own rendering, when its findings cannot be read as violations."""
    check_ms: float


@dataclass(frozen=True)
class ContractResult:
    """What checking one contract produced: kept or broken, its violations, or the error.

    Also the contract type's warnings and fallback text, the ignored-import count,
    the time taken and the redundant ``ignore_imports`` entries. Made by the static
    checker (or read back from the result cache or an xdist worker by ``serialize``);
    the contract item reports it, the baseline compares its violations.
    """

    spec: ContractSpec
    kept: bool
    violations: tuple[Violation, ...] = ()
    warnings: tuple[str, ...] = ()
    ignored_import_count: int = 0
    check_ms: float = 0.0
    fallback_text: str = ""
    """The contract type's own rendering, for types whose findings we cannot read."""
    error: str | None = None
    """Set when the contract could not be checked at all; ``kept`` is then False."""
    redundant_ignores: tuple[RedundantIgnore, ...] = ()
    """``ignore_imports`` entries that no longer matter (when that check is on)."""
    redundant_unchecked: tuple[str, ...] = ()
    """``ignore_imports`` entries the search had no time left to try
    (``ssot_redundant_ignores_budget``): whether they still matter is not known."""

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "kept" if self.kept else "broken"


RUNTIME_PREFIX = "runtime:"
"""Baseline keys of runtime findings are ``runtime:<rule>``; a contract's are its id."""

DOUBLE_LOAD_RULE = "ssot:double-load"
HIDDEN_FOLDER_RULE = "ssot:hidden-folders"
WATCH_RULE_ID = "ssot:watch-modules"
"""The rules of the runtime checks that are not contracts (contract ids cannot contain ':')."""

_FINGERPRINT = re.compile(r"^(?P<kind>[\w.-]+): (?P<importer>\S+) -> (?P<imported>\S+)$")


@dataclass(frozen=True)
class Fingerprint:
    """A baseline entry of a contract, read back: its text and, when it has that form,
    the kind and the two ends that ``Violation.fingerprint`` wrote into it."""

    text: str
    kind: str | None = None
    importer: str | None = None
    imported: str | None = None

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        """The one reading of ``kind: importer -> imported``; other texts keep only ``text``."""
        match = _FINGERPRINT.match(text)
        if match is None:
            return cls(text)
        return cls(text, match["kind"], match["importer"], match["imported"])

    @property
    def edge(self) -> tuple[str, str] | None:
        """The import it stood for: (importer, imported); None for findings that are not imports."""
        if self.kind is None or "import" not in self.kind:
            return None
        assert self.importer is not None and self.imported is not None
        return self.importer, self.imported


@dataclass(frozen=True)
class Comparison:
    """One contract's violations measured against the baseline: new, frozen, fixed.

    Made by ``Baseline.compare``; the contract item fails on ``new`` (and on ``fixed``
    with a strict baseline), the summary and the reports show all three.
    """

    new: tuple[Violation, ...] = ()
    frozen: tuple[Violation, ...] = ()
    fixed: tuple[Fingerprint, ...] = ()
    """Baseline entries that no longer occur."""


@dataclass(frozen=True)
class Phase:
    """The part of the run a runtime finding happened in (set by
    ``runtime.hooks.phase.PhaseTracker``).

    What part (``when``), the test's node id, and the fixture being set up if any.
    ``PhaseTracker`` makes one at each phase change; every ``Finding`` carries the
    one that was current, so a message can say "during setup of fixture 'db' for ...".
    """

    when: str
    """'startup', 'collection', 'setup', 'call', 'teardown' or 'finish'; 'scan' for
    session-wide checks of the project's files that belong to no phase."""
    nodeid: str = ""
    fixture: str | None = None
    fixture_scope: str | None = None

    @property
    def in_test(self) -> bool:
        return self.when in ("setup", "call", "teardown") and bool(self.nodeid)

    def describe(self) -> str:
        if self.fixture:
            return (
                f"setup of fixture {self.fixture!r} ({self.fixture_scope} scope) for {self.nodeid}"
            )
        if self.when == "collection":
            return f"collection of {self.nodeid}" if self.nodeid else "collection"
        if self.in_test:
            return f"{self.when} of {self.nodeid}"
        return {
            "startup": "start-up (plugins and conftest files)",
            "finish": "session end",
            "scan": "the scan of the root packages",
        }.get(self.when, self.when)


ERROR = "error"
WARNING = "warning"
"""A finding's severity: an error fails its test or the run, a warning only warns."""


def runtime_status(severity: str, frozen: bool, allowed: bool) -> str:
    """How a runtime finding ended, as the reports say it: ``warning`` (it only warned),
    ``frozen`` (in the baseline), ``allowed`` (by an allow marker) or ``failing``."""
    if severity != ERROR:
        return "warning"
    if frozen:
        return "frozen"
    return "allowed" if allowed else "failing"


@dataclass(frozen=True)
class Finding:
    """One problem a runtime check saw (a duplicate manager, a forbidden dynamic import, ...).

    Holds the check and rule, the text at two lengths, the phase it happened in, a
    fingerprint for the baseline, a severity and a site. Made by the runtime checks
    (``runtime.hooks.import_checks``, ``runtime.instances.report``,
    ``runtime.isolation.report``)
    and handed to ``FindingsReporter.record``, which fails the phase or the run; xdist
    workers send it to the controller through ``serialize``.
    """

    check: str
    """Which runtime check found it, e.g. 'duplicate-instance', 'dynamic-import'."""
    rule: str
    """The declared rule or contract it breaks (a manager name, a contract id)."""
    summary: str
    """One line, shown in summaries."""
    details: str
    """The full text: sites, stacks, what to do."""
    phase: Phase
    fingerprint: str
    """Stable identity for the baseline: no line numbers, no object ids."""
    severity: str = ERROR
    file: str | None = None
    line: int | None = None
    frozen: bool = False
    """The baseline freezes it: kept for summaries and reports, fails nothing."""

    def render(self) -> str:
        return f"[{self.check}] {self.summary}\n{self.details}".rstrip()
