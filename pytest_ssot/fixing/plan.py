"""Planning the fixes: which import statement becomes which, or why a human must do it.

Pure logic over source facts: nothing is written and no contract is checked here. The
runner asks every contract about the candidate imports (``candidate_imports``) and
hands back the ones that would break one (``rejected``); ``finish`` then picks, for
each name, the best home that is allowed.

The unit of a fix is one *edge* of the import graph, ``importer -> forbidden module``:
the last hop of a violation's chain. One edge may stand for several statements (a
top-level import and a lazy one in a function); each gets its own rewrite.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ssot.fixing.homes import Home, HomeFinder, usable_for
from pytest_ssot.fixing.sites import (
    FROM,
    MODULE_AS,
    MODULE_DOTTED,
    STAR,
    SUBMODULE,
    ImportSite,
    ImportStatements,
)
from pytest_ssot.model import Violation

Edge = tuple[str, str]
"""(importer, imported) modules."""

FIXABLE_KINDS = frozenset({"import", "legacy-import", "canonical-imports-legacy"})
"""Violations whose last hop is an import a fix can move (forbidden, layers, single_source)."""
FIXABLE_TYPES = frozenset({"forbidden", "layers", "single_source"})


@dataclass(frozen=True)
class Move:
    """One name of one statement: where it goes, or why it stays."""

    name: str
    asname: str | None
    home: Home | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SiteFix:
    """One import statement: as written, as it will be, and each name's move."""

    site: ImportSite
    old: str
    new: tuple[str, ...] = ()
    moves: tuple[Move, ...] = ()
    reason: str | None = None

    @property
    def fixable(self) -> bool:
        return self.reason is None and bool(self.moves) and all(m.home for m in self.moves)

    @property
    def changes(self) -> bool:
        """Whether anything in the statement moves (all of it, or some names)."""
        return self.reason is None and any(m.home for m in self.moves)

    def problems(self) -> list[str]:
        if self.reason is not None:
            return [self.reason]
        return [f"{m.name}: {m.reason}" for m in self.moves if m.reason]


@dataclass(frozen=True)
class EdgeFix:
    """Every statement of ``importer`` that imports ``forbidden``, and their fixes."""

    importer: str
    forbidden: str
    file: str | None
    path: Path | None = field(default=None, compare=False)
    is_package: bool = False
    sites: tuple[SiteFix, ...] = ()
    reason: str | None = None

    @property
    def fixable(self) -> bool:
        """Whether applying the plan removes this import from the importer entirely."""
        return self.reason is None and bool(self.sites) and all(s.fixable for s in self.sites)

    def lines(self) -> list[str]:
        """What a failure prints under the chain: the fixes, then why the rest stays."""
        out = []
        if self.reason is not None:
            return [f"not fixable: {self.reason}"]
        for site in self.sites:
            where = f"line {site.site.line}: " if len(self.sites) > 1 else ""
            if site.changes:
                out.append(f"fix: {where}{site.old}  ->  {'; '.join(site.new)}")
            out.extend(f"not fixable: {where}{problem}" for problem in site.problems())
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``fix`` field."""
        return {
            "fixable": self.fixable,
            "importer": self.importer,
            "module": self.forbidden,
            "file": self.file,
            "statements": [
                {
                    "line": site.site.line,
                    "old": site.old,
                    "new": list(site.new) if site.changes else [],
                    "problems": site.problems(),
                }
                for site in self.sites
            ],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ModuleMove:
    """``import old as m`` becomes ``import new as m`` (``m.A`` -> ``m.B`` where renamed);
    ``import old`` becomes ``import new`` (``old.A`` -> ``new.B``)."""

    forbidden: str
    module: str
    names: Mapping[str, str]
    """Every attribute used through the binding -> its name in ``module``."""
    dotted: bool


@dataclass(frozen=True)
class FileEdits:
    """What the rewrite of one file does, per forbidden module it imports."""

    path: Path
    display: str
    module: str
    is_package: bool
    from_moves: Mapping[str, Mapping[str, Home]]
    """forbidden module -> name -> its new home (``from`` imports)."""
    module_moves: Mapping[str, ModuleMove]
    """local binding (``m``, or the dotted ``a.b``) -> what it now names."""
    relative: Mapping[str, bool]
    """forbidden module -> whether its statements were relative (new ones will be too)."""


@dataclass
class FixPlan:
    """Every edge the run's violations end in, with its fix."""

    edges: dict[Edge, EdgeFix] = field(default_factory=dict)

    def for_violation(self, violation: Violation) -> EdgeFix | None:
        edge = last_edge(violation)
        return None if edge is None else self.edges.get(edge)

    def file_edits(self) -> list[FileEdits]:
        """The rewrites to make, one per file, in file order."""
        by_file: dict[Path, FileEdits] = {}
        for edge in sorted(self.edges.values(), key=lambda e: (e.file or "", e.forbidden)):
            if edge.path is None or not any(site.changes for site in edge.sites):
                continue
            edits = by_file.get(edge.path)
            if edits is None:
                edits = by_file[edge.path] = FileEdits(
                    edge.path,
                    edge.file or str(edge.path),
                    edge.importer,
                    edge.is_package,
                    {},
                    {},
                    {},
                )
            from_moves: dict[str, Home] = {}
            for site in edge.sites:
                if not site.changes:
                    continue
                if site.site.kind == FROM:
                    from_moves.update({m.name: m.home for m in site.moves if m.home})
                    assert isinstance(edits.relative, dict)
                    edits.relative[edge.forbidden] = site.site.level > 0
                else:
                    homes = [m.home for m in site.moves if m.home]
                    assert isinstance(edits.module_moves, dict) and site.site.local
                    edits.module_moves[site.site.local] = ModuleMove(
                        edge.forbidden,
                        homes[0].module,
                        {m.name: m.home.name for m in site.moves if m.home},
                        dotted=site.site.kind == MODULE_DOTTED,
                    )
            if from_moves:
                assert isinstance(edits.from_moves, dict)
                edits.from_moves[edge.forbidden] = from_moves
        return [by_file[path] for path in sorted(by_file)]

    def counts(self) -> tuple[int, int]:
        """(statements fixed, statements or names left for a human)."""
        fixed = sum(1 for e in self.edges.values() for s in e.sites if s.changes)
        left = sum(
            1 if e.reason else sum(len(s.problems()) for s in e.sites) for e in self.edges.values()
        )
        return fixed, left


def last_edge(violation: Violation) -> Edge | None:
    """The import a fix would move: the chain's last hop, the one into the forbidden module."""
    if violation.kind not in FIXABLE_KINDS or not violation.hops:
        return None
    hop = violation.hops[-1]
    return hop.importer, hop.imported


# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeRequest:
    """An edge with its statements read and each name's candidate homes found."""

    importer: str
    forbidden: str
    path: Path | None
    display: str | None
    is_package: bool
    sites: tuple[ImportSite, ...] = ()
    reason: str | None = None


def relative_name(importer: str, is_package: bool, target: str) -> str:
    """``target`` as a relative module name seen from ``importer`` (``..pkg.mod``)."""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    parts = target.split(".")
    common = 0
    while common < min(len(package), len(parts)) and package[common] == parts[common]:
        common += 1
    if common == 0:
        return target
    level = len(package) - common + 1
    return "." * level + ".".join(parts[common:])


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


class Planner:
    """Reads the importers' files, finds each name's homes, and turns them into fixes."""

    def __init__(
        self,
        finder: HomeFinder,
        module_file: Callable[[str], Path | None],
        display: Callable[[Path], str],
    ) -> None:
        self.finder = finder
        self.module_file = module_file
        self.display = display

    def collect(
        self, edges: Iterable[Edge], known: Mapping[Edge, EdgeRequest] | None = None
    ) -> list[EdgeRequest]:
        """Each edge's statements; ``known`` ones (kept from an earlier run, their
        importer unchanged) are taken as they are."""
        requests = []
        # Each importer parsed and walked once, whatever number of modules it imports.
        trees: dict[str, ImportStatements | EdgeRequest] = {}
        for importer, forbidden in sorted(set(edges)):
            kept = known.get((importer, forbidden)) if known else None
            requests.append(kept or self._request(importer, forbidden, trees))
        return requests

    def _request(
        self, importer: str, forbidden: str, trees: dict[str, ImportStatements | EdgeRequest]
    ) -> EdgeRequest:
        path = self.module_file(importer)
        if path is None:
            return EdgeRequest(
                importer, forbidden, None, None, False, reason=f"no source file for {importer}"
            )
        display = self.display(path)
        is_package = path.name == "__init__.py"
        tree = trees.get(importer)
        if tree is None:
            tree = trees[importer] = self._parse(importer, forbidden, path, display, is_package)
        if isinstance(tree, EdgeRequest):
            return EdgeRequest(importer, forbidden, path, display, is_package, reason=tree.reason)
        sites = tree.sites(forbidden)
        if not sites:
            return EdgeRequest(
                importer,
                forbidden,
                path,
                display,
                is_package,
                reason=f"no import statement of {forbidden} found in {display}",
            )
        return EdgeRequest(importer, forbidden, path, display, is_package, sites)

    @staticmethod
    def _parse(
        importer: str, forbidden: str, path: Path, display: str, is_package: bool
    ) -> ImportStatements | EdgeRequest:
        """The file's import statements, or a request saying why it cannot be read."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_bytes(), filename=str(path))
            return ImportStatements(tree, importer, is_package)
        except (SyntaxError, ValueError) as exc:
            reason = f"{display} does not parse ({exc}): left alone"
        except OSError as exc:
            reason = f"cannot read {display}: {exc}"
        return EdgeRequest(importer, forbidden, path, display, is_package, reason=reason)

    def candidate_imports(self, requests: Iterable[EdgeRequest]) -> set[Edge]:
        """Every (importer, new module) a fix could add: what the contracts must be asked."""
        found: set[Edge] = set()
        for request in requests:
            for site in request.sites:
                for name, _ in site.names:
                    answer = self.finder.find(request.forbidden, name)
                    found.update(
                        (request.importer, home.module)
                        for home in answer.candidates
                        if usable_for(request.importer, home)
                    )
        return found

    def finish(self, requests: Iterable[EdgeRequest], rejected: Mapping[Edge, str]) -> FixPlan:
        plan = FixPlan()
        for request in requests:
            edge = (request.importer, request.forbidden)
            if request.reason is not None:
                plan.edges[edge] = EdgeFix(
                    request.importer,
                    request.forbidden,
                    request.display,
                    request.path,
                    request.is_package,
                    reason=request.reason,
                )
                continue
            sites = tuple(self._site(request, site, rejected) for site in request.sites)
            plan.edges[edge] = EdgeFix(
                request.importer,
                request.forbidden,
                request.display,
                request.path,
                request.is_package,
                sites,
            )
        return plan

    # -- one statement -----------------------------------------------------------------

    def _allowed(
        self, request: EdgeRequest, name: str, rejected: Mapping[Edge, str]
    ) -> tuple[list[Home], str | None]:
        answer = self.finder.find(request.forbidden, name)
        if answer.reason is not None:
            return [], answer.reason
        usable = [h for h in answer.candidates if usable_for(request.importer, h)]
        if not usable:
            return [], f"its only other homes are {request.importer}'s own package"
        allowed = [h for h in usable if (request.importer, h.module) not in rejected]
        if not allowed:
            best = usable[0]
            return [], (
                f"no allowed home: importing it from {best.module} "
                f"{rejected[(request.importer, best.module)]}"
            )
        return allowed, None

    def _site(
        self, request: EdgeRequest, site: ImportSite, rejected: Mapping[Edge, str]
    ) -> SiteFix:
        old = self._old_text(site)
        if site.kind == STAR:
            return SiteFix(
                site,
                old,
                reason="a star import: the names it takes cannot be listed statically; "
                "import them by name",
            )
        if site.problem is not None:
            return SiteFix(site, old, reason=site.problem)
        if site.kind == SUBMODULE:  # pragma: no cover - always has a problem
            return SiteFix(site, old, reason="binds the module itself")
        if site.kind == FROM:
            return self._from_site(request, site, old, rejected)
        return self._module_site(request, site, old, rejected)

    def _old_text(self, site: ImportSite) -> str:
        if site.kind == STAR:
            return f"from {site.written} import *"
        if site.kind in (MODULE_AS, MODULE_DOTTED):
            local = f" as {site.local}" if site.kind == MODULE_AS else ""
            return f"import {site.written}{local}"
        if site.kind == SUBMODULE:
            return f"from {site.written} import {site.local}"
        names = ", ".join(_alias(n, a) for n, a in site.names)
        return f"from {site.written} import {names}"

    def _written(self, request: EdgeRequest, site: ImportSite, module: str) -> str:
        if site.level:
            return relative_name(request.importer, request.is_package, module)
        return module

    def _from_site(
        self, request: EdgeRequest, site: ImportSite, old: str, rejected: Mapping[Edge, str]
    ) -> SiteFix:
        moves = []
        for name, asname in site.names:
            allowed, reason = self._allowed(request, name, rejected)
            if reason is not None:
                moves.append(Move(name, asname, reason=reason))
            else:
                moves.append(Move(name, asname, home=allowed[0]))
        staying = [_alias(m.name, m.asname) for m in moves if m.home is None]
        new = []
        if staying:
            new.append(f"from {site.written} import {', '.join(staying)}")
        grouped: dict[str, list[str]] = {}
        for move in moves:
            if move.home is None:
                continue
            local = move.asname or move.name
            text = _alias(move.home.name, None if local == move.home.name else local)
            grouped.setdefault(move.home.module, []).append(text)
        for module, names in grouped.items():
            new.append(f"from {self._written(request, site, module)} import {', '.join(names)}")
        return SiteFix(site, old, tuple(new), tuple(moves))

    def _module_site(
        self, request: EdgeRequest, site: ImportSite, old: str, rejected: Mapping[Edge, str]
    ) -> SiteFix:
        per_name: list[tuple[str, list[Home]]] = []
        for name, _ in site.names:
            allowed, reason = self._allowed(request, name, rejected)
            if reason is not None:
                return SiteFix(
                    site,
                    old,
                    moves=tuple(Move(n, None) for n, _ in site.names),
                    reason=f"{site.local}.{name}: {reason}",
                )
            per_name.append((name, allowed))
        common = [
            home.module
            for home in per_name[0][1]
            if all(any(h.module == home.module for h in homes) for _, homes in per_name[1:])
        ]
        if not common:
            return SiteFix(
                site,
                old,
                moves=tuple(Move(n, None) for n, _ in site.names),
                reason=f"the names used through {site.local} have no common new module: "
                "import them by name",
            )
        target = common[0]
        moves = tuple(
            Move(name, None, home=next(h for h in homes if h.module == target))
            for name, homes in per_name
        )
        if site.kind == MODULE_AS:
            statement = f"import {target} as {site.local}"
            uses = [
                f"{site.local}.{m.name} -> {site.local}.{m.home.name}"
                for m in moves
                if m.home and m.home.name != m.name
            ]
        else:
            statement = f"import {target}"
            uses = [f"{site.local}.{m.name} -> {target}.{m.home.name}" for m in moves if m.home]
        if uses:
            statement += f" (and {', '.join(uses)})"
        return SiteFix(site, old, (statement,), moves)
