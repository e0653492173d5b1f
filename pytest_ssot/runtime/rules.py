"""Which direct imports the loaded contracts forbid, as pure functions of module names.

The runtime import check sees one direct import at a time: code in module
``importer`` loads module ``imported``. This module answers "which contract
does that break?" the way import-linter would answer it for the same edge in
its graph, without a graph: from the contracts' raw options alone.

Covered contract types (see docs/runtime-imports.md):

- ``forbidden``: source and forbidden module expressions, ``as_packages``,
  import-linter's rule that overlapping source/forbidden pairs are skipped
  (which is what lets a legacy package's own shims load each other);
- ``layers``: layers with ``|`` (independent) and ``:`` (non-independent)
  siblings, optional ``(layers)``, ``containers`` (with wildcards);
- ``independence``: ``modules`` with wildcards;
- ``protected``: ``protected_modules``, ``allowed_importers``, ``as_packages``.

Every type honours ``ignore_imports``. Not covered: ``acyclic_siblings`` (a
property of the whole graph, not of one edge), ``private_modules`` and custom
contract types. Indirect chains are not judged: at runtime only the direct
importer is known (``allow_indirect_imports`` therefore changes nothing here).

Module expressions follow import-linter and grimp: ``*`` stands for exactly one
name segment, ``**`` for one or more; a wildcard replaces a whole segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_ssot.expressions import ExpressionError, ImportExpression, ModuleExpression
from pytest_ssot.model import WATCH_RULE_ID, ContractSpec

FORBIDDEN = "forbidden"
LAYERS = "layers"
INDEPENDENCE = "independence"
PROTECTED = "protected"
COVERED_TYPES = (FORBIDDEN, LAYERS, INDEPENDENCE, PROTECTED)

"""The rule id of ``ssot_watch_modules`` findings (contract ids cannot contain ':')."""

RuleError = ExpressionError
"""A module or import expression, or a contract's options, cannot be read."""


# ---------------------------------------------------------------------------
# Expressions


def prefixes(name: str) -> Iterator[str]:
    """'a.b.c' -> 'a', 'a.b', 'a.b.c'."""
    start = 0
    while True:
        dot = name.find(".", start)
        if dot < 0:
            yield name
            return
        yield name[:dot]
        start = dot + 1


def within(name: str, package: str) -> bool:
    """``name`` is ``package`` or one of its descendants."""
    return name == package or name.startswith(package + ".")


def matching(name: str, expressions: Sequence[ModuleExpression], *, as_packages: bool) -> list[str]:
    """The modules named by ``expressions`` that contain ``name`` (or are it).

    Without ``as_packages`` that is ``name`` itself or nothing. Shortest first.
    """
    candidates: Iterable[str] = prefixes(name) if as_packages else (name,)
    return [c for c in candidates if any(e.matches(c) for e in expressions)]


class NameFilter:
    """A cheap first test of a module name: could any of these expressions match it
    (or, read as packages, one of its ancestors)?

    Answers with at most one set lookup for names outside the watched top-level
    packages and one lookup per segment otherwise. False positives are allowed
    (the rules decide); false negatives are not.
    """

    def __init__(self, expressions: Iterable[ModuleExpression]) -> None:
        stems = {e.stem for e in expressions}
        self.everything = "" in stems
        self.roots = frozenset(s.partition(".")[0] for s in stems if s)
        self.stems = frozenset(stems)

    def __call__(self, name: str) -> bool:
        if self.everything:
            return True
        stems = self.stems
        dot = name.find(".")
        if dot < 0:
            return name in stems
        if name[:dot] not in self.roots:
            return False
        while dot >= 0:
            if name[:dot] in stems:
                return True
            dot = name.find(".", dot + 1)
        return name in stems


# ---------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class Breach:
    """One direct import that one rule forbids."""

    rule_id: str
    importer: str
    imported: str
    reason: str
    """Why, in the contract's words: 'wsapp.routes is not allowed to import wsapp.websocket'."""

    @property
    def fingerprint(self) -> str:
        # The same text as pytest_ssot.model.Violation.fingerprint for kind "import",
        # so one baseline entry freezes an import whether seen statically or at runtime.
        return f"import: {self.importer} -> {self.imported}"


@dataclass(frozen=True)
class ImportRule:
    """What one contract (or the ssot_watch_modules list) forbids, edge by edge."""

    id: str
    name: str
    type: str
    location: str
    roots: frozenset[str]
    ignore: tuple[ImportExpression, ...] = ()
    guidance: str | None = None
    statically_checked: bool = True
    """False for rules no static check covers (ssot_watch_modules): every load counts."""

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        """Every module that can be the imported end of a breach (read as packages)."""
        raise NotImplementedError

    def is_target(self, name: str) -> bool:
        """``name`` is a module this rule forbids to (some) importers: a legacy module."""
        return False

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        """The reason this direct import breaks the rule, ignoring ``ignore_imports``.

        ``outside``: the importer is code outside the rule's root packages (a test
        or conftest file beside the package), which no import graph contains.
        """
        raise NotImplementedError

    def judge(self, importer: str, imported: str, *, outside: bool) -> Breach | None:
        if any(e.matches(importer, imported) for e in self.ignore):
            return None
        reason = self.breach(importer, imported, outside=outside)
        if reason is None:
            return None
        return Breach(self.id, importer, imported, reason)

    def internal(self, name: str) -> bool:
        return name.partition(".")[0] in self.roots


@dataclass(frozen=True)
class ForbiddenRule(ImportRule):
    """A ``forbidden`` contract at run time: its source modules may not load its forbidden
    ones; code beside the root packages (tests, conftest files) counts as a source."""

    sources: tuple[ModuleExpression, ...] = ()
    forbidden: tuple[ModuleExpression, ...] = ()
    as_packages: bool = True

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        return self.forbidden

    def is_target(self, name: str) -> bool:
        return bool(matching(name, self.forbidden, as_packages=self.as_packages))

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        targets = matching(imported, self.forbidden, as_packages=self.as_packages)
        if not targets:
            return None
        if outside:
            # Code beside the packages counts as a source module of the contract
            # (docs/runtime-imports.md), for the forbidden modules of the packages.
            if not self.internal(imported):
                return None
            return (
                f"{targets[0]} is forbidden by this contract, and code outside the root "
                f"packages counts as one of its source modules at runtime"
            )
        for source in matching(importer, self.sources, as_packages=self.as_packages):
            for target in targets:
                if not _overlap(source, target, as_packages=self.as_packages):
                    return f"{source} is not allowed to import {target}"
        return None


def _overlap(source: str, target: str, *, as_packages: bool) -> bool:
    # import-linter skips such pairs: a module (or package) is never forbidden
    # from importing itself or its own parts.
    if source == target:
        return True
    return as_packages and (within(source, target) or within(target, source))


@dataclass(frozen=True)
class Layer:
    tails: tuple[str, ...]
    independent: bool = True


@dataclass(frozen=True)
class LayersRule(ImportRule):
    """A ``layers`` contract at run time: a lower layer may not load a higher one, nor one
    independent sibling another, within each container (or the top level)."""

    layers: tuple[Layer, ...] = ()
    containers: tuple[ModuleExpression, ...] = ()

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        if not self.containers:
            return tuple(ModuleExpression.parse(t) for layer in self.layers for t in layer.tails)
        return self.containers

    def _layer_of(self, name: str, container: str) -> tuple[int, str] | None:
        for index, layer in enumerate(self.layers):
            for tail in layer.tails:
                module = f"{container}.{tail}" if container else tail
                if within(name, module):
                    return index, module
        return None

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        if outside:
            return None  # layers constrain the layers' own modules only
        containers: list[str] = [""]
        if self.containers:
            containers = [
                c
                for c in prefixes(importer)
                if any(e.matches(c) for e in self.containers) and within(imported, c)
            ]
        for container in containers:
            low = self._layer_of(importer, container)
            high = self._layer_of(imported, container)
            if low is None or high is None:
                continue
            (low_index, low_module), (high_index, high_module) = low, high
            if high_index < low_index:
                return f"{low_module} is not allowed to import {high_module} (a higher layer)"
            if (
                high_index == low_index
                and low_module != high_module
                and self.layers[low_index].independent
            ):
                return (
                    f"{low_module} is not allowed to import {high_module} "
                    "(independent modules of one layer)"
                )
        return None


@dataclass(frozen=True)
class IndependenceRule(ImportRule):
    """An ``independence`` contract at run time: none of its modules may load another."""

    modules: tuple[ModuleExpression, ...] = ()

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        return self.modules

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        if outside:
            return None
        mine = matching(importer, self.modules, as_packages=True)
        theirs = matching(imported, self.modules, as_packages=True)
        if not mine or not theirs:
            return None
        source, target = mine[0], theirs[0]
        if _overlap(source, target, as_packages=True):
            return None
        return f"{source} is not allowed to import {target} (the modules are independent)"


@dataclass(frozen=True)
class ProtectedRule(ImportRule):
    """A ``protected`` contract at run time: only its allowed importers (and the protected
    modules themselves) may load a protected module."""

    protected: tuple[ModuleExpression, ...] = ()
    allowed: tuple[ModuleExpression, ...] = ()
    as_packages: bool = True

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        return self.protected

    def is_target(self, name: str) -> bool:
        return bool(matching(name, self.protected, as_packages=self.as_packages))

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        targets = matching(imported, self.protected, as_packages=self.as_packages)
        if not targets or (outside and not self.internal(imported)):
            return None
        if matching(importer, self.allowed, as_packages=self.as_packages):
            return None
        for target in targets:
            inside = within(importer, target) if self.as_packages else importer == target
            if not inside:
                allowed = ", ".join(str(e) for e in self.allowed) or "nothing"
                return f"{target} is protected: only {allowed} may import it"
        return None


@dataclass(frozen=True)
class WatchRule(ImportRule):
    """``ssot_watch_modules``: project code may not load these modules at all."""

    modules: tuple[ModuleExpression, ...] = ()

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        return self.modules

    def is_target(self, name: str) -> bool:
        return bool(matching(name, self.modules, as_packages=True))

    def breach(self, importer: str, imported: str, *, outside: bool) -> str | None:
        for target in matching(imported, self.modules, as_packages=True):
            if outside or not within(importer, target):
                return f"{target} is listed in ssot_watch_modules: project code may not load it"
        return None


# ---------------------------------------------------------------------------
# Building rules from contracts


def as_list(value: Any) -> list[str]:
    """An option as import-linter reads it: a string or a list of strings."""
    if value is None:
        return []
    items = value.splitlines() if isinstance(value, str) else [str(v) for v in value]
    return [item.strip() for item in items if item.strip()]


def _flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None:
        return default
    return str(value).strip().lower() == "true"


def _expressions(
    options: Mapping[str, Any], key: str, *, required: bool
) -> tuple[ModuleExpression, ...]:
    values = as_list(options.get(key))
    if required and not values:
        raise RuleError(f"the option {key!r} is missing")
    return tuple(ModuleExpression.parse(v) for v in values)


def _parse_layer(text: str) -> Layer:
    if "|" in text and ":" in text:
        raise RuleError(f"layer {text!r} mixes '|' and ':'")
    separator = "|" if "|" in text else ":"
    tails = []
    for raw in text.split(separator):
        tail = raw.strip()
        if tail.startswith("(") and tail.endswith(")"):
            tail = tail[1:-1].strip()
        if not tail:
            raise RuleError(f"layer {text!r} has an empty module")
        tails.append(tail)
    return Layer(tuple(tails), independent=separator == "|")


def rule_for(spec: ContractSpec) -> ImportRule:
    """The runtime rule of one contract. Raises RuleError for uncovered types and bad options."""
    options = spec.options
    base: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "type": spec.type,
        "location": spec.location,
        "roots": frozenset(spec.session.root_packages),
        "ignore": tuple(ImportExpression.parse(v) for v in as_list(options.get("ignore_imports"))),
        "guidance": spec.guidance,
    }
    if spec.type == FORBIDDEN:
        return ForbiddenRule(
            **base,
            sources=_expressions(options, "source_modules", required=True),
            forbidden=_expressions(options, "forbidden_modules", required=True),
            as_packages=_flag(options, "as_packages", True),
        )
    if spec.type == LAYERS:
        layers = tuple(_parse_layer(text) for text in as_list(options.get("layers")))
        if not layers:
            raise RuleError("the option 'layers' is missing")
        return LayersRule(
            **base, layers=layers, containers=_expressions(options, "containers", required=False)
        )
    if spec.type == INDEPENDENCE:
        return IndependenceRule(**base, modules=_expressions(options, "modules", required=True))
    if spec.type == PROTECTED:
        return ProtectedRule(
            **base,
            protected=_expressions(options, "protected_modules", required=True),
            allowed=_expressions(options, "allowed_importers", required=False),
            as_packages=_flag(options, "as_packages", True),
        )
    raise RuleError(f"contracts of type {spec.type!r} are not checked at runtime")


def watch_rule(patterns: Sequence[str], roots: Iterable[str]) -> WatchRule | None:
    modules = tuple(ModuleExpression.parse(p) for p in patterns)
    if not modules:
        return None
    return WatchRule(
        id=WATCH_RULE_ID,
        name="modules listed in ssot_watch_modules",
        type="ssot_watch_modules",
        location="ini option ssot_watch_modules",
        roots=frozenset(roots),
        modules=modules,
        statically_checked=False,
    )


@dataclass(frozen=True)
class RuleBook:
    """The runtime import rules of one run, and the contracts they could not cover.

    One ``ImportRule`` per contract the import watcher can check at run time (plus the
    ``ssot_watch_modules`` rule), and each skipped contract with the reason. Made by
    ``build_rules``; the runtime import checks ask it which modules to watch.
    """

    rules: tuple[ImportRule, ...]
    skipped: tuple[tuple[ContractSpec, str], ...] = ()
    """Contracts the runtime check does not cover, with the reason."""

    @property
    def watched(self) -> tuple[ModuleExpression, ...]:
        return tuple(e for rule in self.rules for e in rule.watched)

    def name_filter(self) -> NameFilter:
        return NameFilter(self.watched)

    def judge(self, importer: str, imported: str, *, outside: Mapping[str, bool]) -> list[Breach]:
        """Every rule's breach; ``outside`` maps a rule id to whether the importer is outside."""
        found = []
        for rule in self.rules:
            breach = rule.judge(importer, imported, outside=outside[rule.id])
            if breach is not None:
                found.append(breach)
        return found


def build_rules(
    specs: Iterable[ContractSpec],
    *,
    enabled: Mapping[str, bool] | None = None,
    watch: Sequence[str] = (),
) -> RuleBook:
    """Rules for every covered contract (``enabled`` may switch contracts off by id)."""
    rules: list[ImportRule] = []
    skipped: list[tuple[ContractSpec, str]] = []
    roots: set[str] = set()
    for spec in specs:
        roots.update(spec.session.root_packages)
        if enabled is not None and not enabled.get(spec.id, True):
            continue
        try:
            rules.append(rule_for(spec))
        except RuleError as exc:
            skipped.append((spec, str(exc)))
    extra = watch_rule(watch, roots)
    if extra is not None:
        rules.append(extra)
    return RuleBook(tuple(rules), tuple(skipped))
