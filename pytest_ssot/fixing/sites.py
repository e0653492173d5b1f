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


def find_sites(
    tree: ast.Module, module: str, is_package: bool, target: str
) -> tuple[ImportSite, ...]:
    """Every statement in ``tree`` (the source of ``module``) that imports from ``target``."""
    top = {id(node) for node in tree.body}
    sites: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = resolve_from(module, is_package, node.level, node.module)
            on_top = id(node) in top
            written = "." * node.level + (node.module or "")
            if base == target:
                if any(alias.name == "*" for alias in node.names):
                    sites.append(ImportSite(STAR, node.lineno, node.level, on_top, written=written))
                else:
                    names = tuple((alias.name, alias.asname) for alias in node.names)
                    sites.append(
                        ImportSite(FROM, node.lineno, node.level, on_top, names, written=written)
                    )
            elif base is not None:
                for alias in node.names:
                    if f"{base}.{alias.name}" == target:
                        sites.append(
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
                        )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name != target:
                    continue
                kind = MODULE_AS if alias.asname else MODULE_DOTTED
                local = alias.asname or alias.name
                uses = _Uses(local)
                uses.visit(tree)
                problem = uses.problem
                if problem is None and not uses.attributes:
                    problem = f"no name is used through {local}: nothing to move"
                names = tuple((attribute, None) for attribute in sorted(uses.attributes))
                sites.append(
                    ImportSite(
                        kind,
                        node.lineno,
                        0,
                        id(node) in top,
                        names,
                        local=local,
                        problem=problem,
                        written=alias.name,
                    )
                )
    sites.sort(key=lambda site: site.line)
    return tuple(sites)
