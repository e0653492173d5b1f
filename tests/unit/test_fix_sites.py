"""Finding the import statements of a file: one walk over its statements, shared by targets."""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.fixing import sites as sites_module
from pytest_ssot.fixing.sites import (
    FROM,
    MODULE_AS,
    STAR,
    SUBMODULE,
    ImportSite,
    ImportStatements,
    find_sites,
    import_statements,
)

# -- generated sources: import statements at every depth of every kind of block ----------

IMPORTS = [
    "import pkg.legacy",
    "import pkg.legacy as m",
    "import pkg.legacy, os",
    "from pkg.legacy import Thing",
    "from pkg.legacy import Thing as Other, More",
    "from pkg import legacy",
    "from pkg import legacy as old, other",
    "from . import legacy",
    "from .legacy import Thing",
    "from ..pkg.legacy import Thing",
    "from pkg.legacy import *",
    "from pkg.other import Thing",
    "import pkg.other as m",
]
OTHER = [
    "pass",
    "x = m.Thing",
    "print(pkg.legacy.More)",
    "y = [lambda: m.Thing for _ in range(2)]",
    "z = (m.Thing if m else None)",
    "del x",
    "import os; from pkg.legacy import Thing",
]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _compound(kind: str, body: list[str], other: list[str]) -> list[str]:
    if kind == "if":
        return ["if x:", *_indent(body), "elif y:", *_indent(other), "else:", *_indent(body)]
    if kind == "try":
        return [
            "try:",
            *_indent(body),
            "except ImportError:",
            *_indent(other),
            "else:",
            *_indent(body),
            "finally:",
            *_indent(other),
        ]
    if kind == "trystar":
        return ["try:", *_indent(body), "except* ValueError:", *_indent(other)]
    if kind == "with":
        return ["with a as b, c:", *_indent(body)]
    if kind == "for":
        return ["for i in x:", *_indent(body), "else:", *_indent(other)]
    if kind == "while":
        return ["while x:", *_indent(body), "else:", *_indent(other)]
    if kind == "def":
        return ["@decorator(lambda: m.Thing)", "def f(a=m.Thing):", *_indent(body)]
    if kind == "async":
        return ["async def g():", *_indent(["async with a:", *_indent(body), *other])]
    if kind == "class":
        return ["class C(Base):", *_indent(body), *_indent(other)]
    # match: a case per block, with a guard
    return [
        "match x:",
        *_indent(["case [a, b] if a:", *_indent(body), "case _:", *_indent(other)]),
    ]


KINDS = ["if", "try", "trystar", "with", "for", "while", "def", "async", "class", "match"]

simple = st.lists(st.sampled_from(IMPORTS + OTHER), min_size=1, max_size=3)
blocks = st.recursive(
    simple,
    lambda inner: (
        st.builds(_compound, st.sampled_from(KINDS), inner, inner)
        | st.builds(lambda a, b: a + b, inner, inner)
    ),
    max_leaves=12,
)


def _reference_sites(
    tree: ast.Module, module: str, is_package: bool, target: str
) -> list[ImportSite]:
    """What find_sites answered before it walked statements only: ``ast.walk`` of every node."""
    statements = ImportStatements(ast.Module(body=[], type_ignores=[]), module, is_package)
    top = {id(node) for node in tree.body}
    found: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += statements._from_sites(node, id(node) in top, target)
        elif isinstance(node, ast.Import):
            statements.tree = tree  # uses are looked for in the whole file
            found += statements._import_sites(node, id(node) in top, target)
    found.sort(key=lambda site: site.line)
    return found


@settings(max_examples=150, deadline=None)
@given(blocks)
def test_the_statement_walk_finds_exactly_the_imports_ast_walk_finds(lines: list[str]) -> None:
    source = "\n".join(lines) + "\n"
    tree = ast.parse(source)
    expected = [
        (node.lineno, node.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    found = import_statements(tree)
    assert sorted((n.lineno, n.col_offset) for n, _ in found) == sorted(expected)
    assert len(found) == len(expected)  # none twice
    # In source order, and at module level exactly when a child of the module.
    assert [(n.lineno, n.col_offset) for n, _ in found] == sorted(expected)
    top = {id(node) for node in tree.body}
    assert all(on_top == (id(node) in top) for node, on_top in found)
    statements = ImportStatements(tree, "pkg.sub.web", False)
    for target in ("pkg.legacy", "pkg.sub.legacy", "pkg.other", "legacy"):
        assert list(statements.sites(target)) == _reference_sites(
            tree, "pkg.sub.web", False, target
        )


SOURCE = textwrap.dedent(
    """
    import pkg.legacy as m
    from pkg.legacy import Thing
    from pkg import legacy

    def f():
        from pkg.legacy.deep import Other
        if m:
            import pkg.legacy.deep as d
        return m.Thing, d.Other

    class C:
        try:
            from pkg.legacy import *
        except ImportError:
            pass

    match Thing:
        case 1:
            from pkg.legacy.deep import More
    """
)


def test_sites_per_target_kind_line_and_level() -> None:
    statements = ImportStatements(ast.parse(SOURCE), "pkg.web", False)
    legacy = statements.sites("pkg.legacy")
    assert [(s.kind, s.line, s.top_level) for s in legacy] == [
        (MODULE_AS, 2, True),
        (FROM, 3, True),
        (SUBMODULE, 4, True),
        (STAR, 14, False),
    ]
    assert legacy[0].names == (("Thing", None),)
    assert legacy[0].problem == "m is used as a module object, not only m.<name>"
    assert legacy[2].local == "legacy"
    deep = statements.sites("pkg.legacy.deep")
    assert [(s.kind, s.line, s.top_level, s.names) for s in deep] == [
        (FROM, 7, False, (("Other", None),)),
        (MODULE_AS, 9, False, (("Other", None),)),
        (FROM, 20, False, (("More", None),)),
    ]
    assert statements.sites("pkg.nothing") == ()
    assert find_sites(ast.parse(SOURCE), "pkg.web", False, "pkg.legacy") == legacy


def test_one_walk_per_file_and_one_use_search_per_binding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walks: list[int] = []
    uses: list[str] = []
    real_walk = sites_module.import_statements
    real_uses = sites_module._Uses

    def counting_walk(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
        walks.append(1)
        return real_walk(tree)

    class CountingUses(real_uses):  # type: ignore[misc, valid-type]
        def __init__(self, prefix: str) -> None:
            uses.append(prefix)
            super().__init__(prefix)

    monkeypatch.setattr(sites_module, "import_statements", counting_walk)
    monkeypatch.setattr(sites_module, "_Uses", CountingUses)
    statements = ImportStatements(ast.parse(SOURCE), "pkg.web", False)
    for _ in range(3):
        for target in ("pkg.legacy", "pkg.legacy.deep", "pkg.other"):
            statements.sites(target)
    assert walks == [1]
    assert sorted(uses) == ["d", "m"]
