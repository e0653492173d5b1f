"""The import statements of one source file that bind names from a given module, and their uses.

Pure: a syntax tree in, facts out. Function-level imports count as much as top-level
ones (a lazy import is still an import). For ``import a.b as m`` and ``import a.b`` the
names taken are the attributes used through the binding (``m.Name``, ``a.b.Name``); a use
of the module object itself makes the statement one a human must rewrite.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from pytest_ssot.contract_types._source_index import dotted_name

FROM = "from"
"""``from module import A, B as C``."""
STAR = "star"
"""``from module import *``."""
MODULE_AS = "module-as"
"""``import module as m``: names are the attributes used as ``m.Name``."""
MODULE_DOTTED = "module-dotted"
"""``import module``: names are the attributes used as ``module.Name``."""
SUBMODULE = "submodule"
"""``from package import module``: binds the forbidden module itself."""


@dataclass(frozen=True)
class ImportSite:
    """One statement that imports from (or binds) a forbidden module."""

    kind: str
    line: int
    level: int
    """The relative level as written (0 for an absolute import)."""
    top_level: bool
    """At module level (only those may be merged into another import)."""
    names: tuple[tuple[str, str | None], ...] = ()
    """(name, asname) for ``from`` imports; (attribute, None) used through a module binding."""
    local: str | None = None
    """The name a module binding goes by (``m``, or the dotted ``a.b``)."""
    problem: str | None = None
    """Why the statement cannot be rewritten (a use of the module object itself)."""
    written: str = ""
    """The module as written: ``..websocket_core.manager``, ``wsapp.legacy``."""


def resolve_from(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute module a ``from`` import in ``module`` names, or None beyond the top."""
    if not level:
        return name
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    if not parts:
        return None
    if name:
        parts.append(name)
    return ".".join(parts)


class _Uses(ast.NodeVisitor):
    """Attribute uses through a binding: ``prefix.Name``; anything else is a problem."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.head = prefix.partition(".")[0]
        self.attributes: set[str] = set()
        self.problem: str | None = None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = dotted_name(node)
        if dotted is not None and dotted.startswith(self.prefix + "."):
            rest = dotted[len(self.prefix) + 1 :]
            if "." not in rest:
                self.attributes.add(rest)
                if not isinstance(node.ctx, ast.Load):
                    self.problem = f"{dotted} is assigned or deleted, not only read"
                return
            # prefix.Name.more: the deepest prefix.Name is reached below.
        if dotted == self.prefix and "." in self.prefix:
            self.problem = (
                f"{self.prefix} is used as a module object, not only {self.prefix}.<name>"
            )
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id != self.head:
            return
        if not isinstance(node.ctx, ast.Load):
            self.problem = f"{node.id} is assigned or deleted in this file"
        elif "." not in self.prefix:
            self.problem = f"{node.id} is used as a module object, not only {node.id}.<name>"

    def visit_Global(self, node: ast.Global) -> None:
        if self.head in node.names:
            self.problem = f"{self.head} is declared global in a function"


_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")
"""The fields through which statements hold statements, in source order: the blocks of
compound statements, ``except`` handlers and ``match`` cases (whose own ``body`` is a
block). Expressions never hold statements, so nothing below an expression is visited."""


def import_statements(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every ``import`` and ``from ... import`` statement of ``tree``, at any depth (in
    functions, classes, ``if``/``try``/``with``/``for``/``while``/``match`` blocks), each
    with whether it is at module level. In source order.

    Walks statements only: a file of 100,000 syntax nodes has a few thousand statements.
    """
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    stack: list[tuple[list[ast.AST], bool]] = [(list(tree.body), True)]
    while stack:
        nodes, top = stack.pop()
        for position, node in enumerate(nodes):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append((node, top))
                continue
            inner: list[ast.AST] = []
            for name in _BLOCKS:
                block = getattr(node, name, None)
                if isinstance(block, list):
                    inner += block
            if inner:
                # Depth first, in order: what follows this node waits on the stack.
                stack.append((nodes[position + 1 :], top))
                stack.append((inner, False))
                break
    return found


class ImportStatements:
    """The import statements of one parsed file, found once and asked about many targets.

    ``sites(target)`` gives what ``find_sites`` gives; the statements are found in one
    walk (``import_statements``) and the uses of a module binding (``import a.b as m``)
    are looked for once per binding, however many targets are asked.
    """

    def __init__(self, tree: ast.Module, module: str, is_package: bool) -> None:
        self.tree = tree
        self.module = module
        self.is_package = is_package
        self.statements = import_statements(tree)
        self._uses: dict[str, _Uses] = {}

    def uses(self, local: str) -> _Uses:
        """The attributes used through the binding ``local`` in the whole file (memoised)."""
        found = self._uses.get(local)
        if found is None:
            found = self._uses[local] = _Uses(local)
            found.visit(self.tree)
        return found

    def sites(self, target: str) -> tuple[ImportSite, ...]:
        """Every statement of the file that imports from ``target``, in line order."""
        sites: list[ImportSite] = []
        for node, on_top in self.statements:
            if isinstance(node, ast.ImportFrom):
                sites += self._from_sites(node, on_top, target)
            else:
                sites += self._import_sites(node, on_top, target)
        sites.sort(key=lambda site: site.line)
        return tuple(sites)

    def _from_sites(self, node: ast.ImportFrom, on_top: bool, target: str) -> list[ImportSite]:
        base = resolve_from(self.module, self.is_package, node.level, node.module)
        written = "." * node.level + (node.module or "")
        if base == target:
            if any(alias.name == "*" for alias in node.names):
                return [ImportSite(STAR, node.lineno, node.level, on_top, written=written)]
            names = tuple((alias.name, alias.asname) for alias in node.names)
            return [ImportSite(FROM, node.lineno, node.level, on_top, names, written=written)]
        if base is None:
            return []
        return [
            ImportSite(
                SUBMODULE,
                node.lineno,
                node.level,
                on_top,
                local=alias.asname or alias.name,
                problem=f"`from {base} import {alias.name}` binds the module "
                "itself: rewrite its uses by hand",
                written=written,
            )
            for alias in node.names
            if f"{base}.{alias.name}" == target
        ]

    def _import_sites(self, node: ast.Import, on_top: bool, target: str) -> list[ImportSite]:
        sites = []
        for alias in node.names:
            if alias.name != target:
                continue
            kind = MODULE_AS if alias.asname else MODULE_DOTTED
            local = alias.asname or alias.name
            uses = self.uses(local)
            problem = uses.problem
            if problem is None and not uses.attributes:
                problem = f"no name is used through {local}: nothing to move"
            names = tuple((attribute, None) for attribute in sorted(uses.attributes))
            sites.append(
                ImportSite(
                    kind,
                    node.lineno,
                    0,
                    on_top,
                    names,
                    local=local,
                    problem=problem,
                    written=alias.name,
                )
            )
        return sites


def find_sites(
    tree: ast.Module, module: str, is_package: bool, target: str
) -> tuple[ImportSite, ...]:
    """Every statement in ``tree`` (the source of ``module``) that imports from ``target``.

    For several targets of one file, make one ``ImportStatements`` and ask it each.
    """
    return ImportStatements(tree, module, is_package).sites(target)
