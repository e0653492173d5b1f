"""Reading each contract type's findings into our violations (adapter.read_violations).

Each built-in type is checked by import-linter itself on a small graph held in memory
(no files, no build), so the metadata is the shape the installed version really gives;
the test says which violations, chains and lines we read from it. Shapes one version
alone produces (independence's detailed chains since 2.17) are also written out by hand.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grimp
import pytest

from pytest_ssot import adapter
from pytest_ssot.model import ContractSpec, GraphKey, SessionOptions, Violation

# Also run at the lower bound of the supported range (.ci/run): the metadata's shapes move.
pytestmark = pytest.mark.library_surface

Edge = tuple[str, str, int]
Shown = tuple[str, str, str, tuple[tuple[str, str, tuple[int, ...]], ...], str]


def spec(type_: str, **options: Any) -> ContractSpec:
    return ContractSpec(
        id="c",
        name="contract",
        type=type_,
        options=options,
        source_path=Path("pyproject.toml"),
        source_display="pyproject.toml",
        line=1,
        session=SessionOptions(raw={"root_packages": ["app"]}, root_packages=("app",)),
    )


def graph(edges: Sequence[Edge], modules: Sequence[str] = ()) -> adapter.BuiltGraph:
    held = grimp.ImportGraph()
    for module in {"app", *modules, *(m for e in edges for m in e[:2])}:
        held.add_module(module)
    for importer, imported, line in edges:
        held.add_import(
            importer=importer,
            imported=imported,
            line_number=line,
            line_contents=f"import {imported}",
        )
    return adapter.BuiltGraph(
        key=GraphKey(("app",)),
        graph=held,
        package_dirs={},
        build_ms=0.0,
        modules=len(held.modules),
        imports=held.count_imports(),
    )


def shown(violations: Sequence[Violation]) -> list[Shown]:
    return [
        (
            v.kind,
            v.importer,
            v.imported,
            tuple((h.importer, h.imported, h.line_numbers) for h in v.hops),
            v.heading,
        )
        for v in violations
    ]


def checked(contract: ContractSpec, edges: Sequence[Edge], modules: Sequence[str] = ()) -> Any:
    raw = adapter.check(adapter.instantiate(contract), graph(edges, modules))
    assert not raw.kept
    assert raw.fallback_text == ""  # read as violations, not the type's own rendering
    return shown(raw.violations)


def test_forbidden_gives_the_chain_with_every_line_of_each_hop() -> None:
    contract = spec("forbidden", source_modules=["app.a"], forbidden_modules=["app.legacy"])
    edges = [("app.a", "app.b", 3), ("app.b", "app.legacy", 5), ("app.b", "app.legacy", 7)]
    assert checked(contract, edges) == [
        (
            "import",
            "app.a",
            "app.legacy",
            (("app.a", "app.b", (3,)), ("app.b", "app.legacy", (5, 7))),
            "app.a is not allowed to import app.legacy",
        )
    ]


def test_independence_gives_the_chain_between_the_modules() -> None:
    contract = spec("independence", modules=["app.a", "app.b"])
    edges = [("app.a", "app.x", 2), ("app.x", "app.b", 4)]
    assert checked(contract, edges) == [
        (
            "import",
            "app.a",
            "app.b",
            (("app.a", "app.x", (2,)), ("app.x", "app.b", (4,))),
            "app.a is not allowed to import app.b",
        )
    ]


def test_layers_gives_each_route_and_each_module_an_exhaustive_contract_misses() -> None:
    contract = spec("layers", layers=["high", "low"], containers=["app"], exhaustive="true")
    edges = [("app.low.x", "app.high.y", 3), ("app.low.z", "app.high.y", 8)]
    heading = "app.low is not allowed to import app.high"
    assert sorted(checked(contract, edges, ["app.high", "app.low", "app.stray"])) == [
        ("import", "app.low.x", "app.high.y", (("app.low.x", "app.high.y", (3,)),), heading),
        ("import", "app.low.z", "app.high.y", (("app.low.z", "app.high.y", (8,)),), heading),
        (
            "undeclared",
            "app.stray",
            "app.stray",
            (),
            "Modules not listed as layers (the contract is exhaustive)",
        ),
    ]


def test_protected_gives_each_import_from_outside_the_allowed_importers() -> None:
    contract = spec("protected", protected_modules=["app.legacy"], allowed_importers=["app.b"])
    edges = [("app.a", "app.legacy", 2), ("app.b", "app.legacy", 3)]
    assert checked(contract, edges) == [
        (
            "import",
            "app.a",
            "app.legacy",
            (("app.a", "app.legacy", (2,)),),
            "Illegal imports of protected package app.legacy",
        )
    ]


def test_acyclic_siblings_gives_the_import_that_breaks_the_cycle() -> None:
    raw = adapter.check(
        adapter.instantiate(spec("acyclic_siblings", ancestors=["app"])),
        graph([("app.a", "app.b", 1), ("app.b", "app.a", 2)]),
    )
    [violation] = raw.violations
    assert (violation.kind, violation.heading) == ("cycle", "No cycles are allowed in app")
    assert {violation.importer, violation.imported} == {"app.a", "app.b"}
    assert violation.message == (
        f"{violation.importer} -> {violation.imported} (removing it helps break the cycle)"
    )
    assert violation.fingerprint == f"cycle: {violation.importer} -> {violation.imported}"


@pytest.mark.skipif(
    importlib.util.find_spec("importlinter.contracts.private_modules") is None,
    reason="private_modules is new in import-linter 2.17",
)
def test_private_modules_gives_each_import_of_a_private_module() -> None:
    assert checked(spec("private_modules"), [("app.a", "app.b._private", 1)], ["app.b"]) == [
        (
            "import",
            "app.a",
            "app.b._private",
            (("app.a", "app.b._private", (1,)),),
            "Imports of private modules",
        )
    ]


# -- shapes written out by hand ------------------------------------------------------------


def link(importer: str, imported: str, *lines: int) -> dict[str, Any]:
    return {"importer": importer, "imported": imported, "line_numbers": lines}


def test_a_detailed_chain_gives_one_violation_per_extra_head_and_tail() -> None:
    """independence since 2.17, and layers: one route stands for several chains."""
    route = {
        "chain": [link("app.a", "app.x", 2), link("app.x", "app.b", 4)],
        "extra_firsts": [link("app.a.y", "app.x", 6)],
        "extra_lasts": [link("app.x", "app.b.z", 9)],
    }
    metadata = {
        "invalid_chains": [
            {"upstream_module": "app.b", "downstream_module": "app.a", "chains": [route]}
        ]
    }
    heading = "app.a is not allowed to import app.b"
    assert shown(list(adapter.read_violations(metadata))) == [
        ("import", "app.a", "app.b", (("app.a", "app.x", (2,)), ("app.x", "app.b", (4,))), heading),
        (
            "import",
            "app.a.y",
            "app.b",
            (("app.a.y", "app.x", (6,)), ("app.x", "app.b", (4,))),
            heading,
        ),
        (
            "import",
            "app.a",
            "app.b.z",
            (("app.a", "app.x", (2,)), ("app.x", "app.b.z", (9,))),
            heading,
        ),
    ]


def test_line_numbers_that_are_not_lines_are_left_out() -> None:
    """grimp gives -1 (or None) for an import added without a line."""
    metadata = {"illegal_imports": [{**link("app.a", "app.b._p"), "line_numbers": (-1, None, 4)}]}
    [violation] = adapter.read_violations(metadata)
    assert violation.hops[0].line_numbers == (4,)


def test_our_own_types_pass_their_violations_through() -> None:
    mine = Violation("definition", "app.a", "app.core", file="app/a.py", line=3)
    metadata = {"ssot_violations": [mine, "not a violation"]}
    assert list(adapter.read_violations(metadata)) == [mine]


def test_metadata_of_an_unknown_shape_gives_nothing_to_read() -> None:
    assert list(adapter.read_violations({"something_else": [1, 2]})) == []


def test_a_type_whose_findings_cannot_be_read_is_shown_in_its_own_words() -> None:
    """A custom type with metadata we do not know: its render_broken_contract text."""
    from importlinter import Contract, ContractCheck, output

    class Odd(Contract):
        def check(self, graph: Any, verbose: bool) -> ContractCheck:
            return ContractCheck(kept=False, metadata={"odd": True})

        def render_broken_contract(self, check: ContractCheck) -> None:
            output.print("Something odd happened.")

    contract = Odd(name="odd", session_options={"root_packages": ["app"]}, contract_options={})
    raw = adapter.check(contract, graph([("app.a", "app.b", 1)]))
    assert (raw.kept, raw.violations) == (False, ())
    assert raw.fallback_text == "Something odd happened."
