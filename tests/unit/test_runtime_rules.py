"""The runtime rules: wildcards, and verdicts that agree with import-linter edge by edge.

The runtime check has no import graph; it judges one direct import at a time
from the contracts' options. These tests hold it to a simple reference model
for the wildcards and to import-linter itself (on a one-edge graph) for the
verdicts of forbidden, layers, independence and protected contracts.
"""

from __future__ import annotations

import itertools
import os
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import grimp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest_ssot.runtime.rules as rules_module
from pytest_ssot.expressions import ImportExpression, ModuleExpression
from pytest_ssot.layout import ProjectLayout, find_hidden_folders
from pytest_ssot.model import ContractSpec, SessionOptions
from pytest_ssot.runtime.modules import find_double_loads
from pytest_ssot.runtime.rules import (
    ForbiddenRule,
    NameFilter,
    RuleError,
    build_rules,
    prefixes,
    rule_for,
)

pytestmark = pytest.mark.library_surface

SEGMENTS = ["a", "b", "c"]
names = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4)


def _valid(parts: Sequence[str]) -> bool:
    for left, right in itertools.pairwise(parts):
        if left == "**" and right in ("*", "**"):
            return False
        if left == "*" and right == "**":
            return False
    return True


expressions = st.lists(st.sampled_from([*SEGMENTS, "*", "**"]), min_size=1, max_size=4).filter(
    _valid
)


def reference(expression: Sequence[str], name: Sequence[str]) -> bool:
    """'*' is one segment, '**' one or more; everything else matches itself."""
    if not expression:
        return not name
    head, rest = expression[0], expression[1:]
    if head == "**":
        return any(reference(rest, name[i:]) for i in range(1, len(name) + 1))
    if not name:
        return False
    return head in ("*", name[0]) and reference(rest, name[1:])


# ---------------------------------------------------------------------------
# Wildcards


@given(expressions, names)
def test_wildcards_match_the_reference_model(expression: list[str], name: list[str]) -> None:
    parsed = ModuleExpression.parse(".".join(expression))
    assert parsed.matches(".".join(name)) == reference(expression, name)


# Every module of up to three segments over a, b (with its parents).
UNIVERSE = sorted(
    ".".join(parts) for n in (1, 2, 3) for parts in itertools.product(["a", "b"], repeat=n)
)


@pytest.fixture(scope="module")
def universe_graph() -> Any:
    graph = grimp.ImportGraph()
    for module in UNIVERSE:
        graph.add_module(module)
    return graph


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "*", "**"]), min_size=1, max_size=4).filter(_valid))
def test_wildcards_match_what_grimp_matches(universe_graph: Any, expression: list[str]) -> None:
    text = ".".join(expression)
    ours = {m for m in UNIVERSE if ModuleExpression.parse(text).matches(m)}
    assert ours == set(universe_graph.find_matching_modules(text))


@pytest.mark.parametrize("text", ["", "a..b", "a.b*", "a.**.*", "a.**.**", "a.*.**", " "])
def test_invalid_expressions_are_rejected(text: str) -> None:
    with pytest.raises(RuleError):
        ModuleExpression.parse(text)


def test_import_expressions() -> None:
    expression = ImportExpression.parse(" pkg.*.api -> pkg.legacy.** ")
    assert expression.matches("pkg.routes.api", "pkg.legacy.old")
    assert not expression.matches("pkg.routes.api", "pkg.legacy")
    assert not expression.matches("pkg.api", "pkg.legacy.old")
    with pytest.raises(RuleError):
        ImportExpression.parse("pkg.a > pkg.b")


@given(st.lists(expressions, min_size=1, max_size=3), names)
def test_the_name_filter_never_misses(expression_lists: list[list[str]], name: list[str]) -> None:
    parsed = [ModuleExpression.parse(".".join(e)) for e in expression_lists]
    dotted = ".".join(name)
    watched = any(e.matches(p) for e in parsed for p in prefixes(dotted))
    if watched:
        assert NameFilter(parsed)(dotted)


def test_the_name_filter_rejects_other_packages_with_one_lookup() -> None:
    name_filter = NameFilter([ModuleExpression.parse("app.legacy.**")])
    assert name_filter.roots == {"app"}
    assert not name_filter("json.decoder")
    assert not name_filter("app.routes")
    assert name_filter("app.legacy.x")
    assert NameFilter([ModuleExpression.parse("*.legacy")]).everything


# ---------------------------------------------------------------------------
# Verdicts agree with import-linter on a one-edge graph


def spec(options: dict[str, Any], roots: Sequence[str] = ("a", "b")) -> ContractSpec:
    session = SessionOptions(raw={"root_packages": list(roots)}, root_packages=tuple(roots))
    return ContractSpec(
        id="c",
        name="contract",
        type=str(options["type"]),
        options=options,
        source_path=Path("pyproject.toml"),
        source_display="pyproject.toml",
        line=1,
        session=session,
    )


def import_linter_kept(options: dict[str, Any], importer: str, imported: str) -> bool:
    import importlinter.configuration

    from pytest_ssot import adapter

    importlinter.configuration.configure()
    graph = grimp.ImportGraph()
    for module in UNIVERSE:
        graph.add_module(module)
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    contract = adapter.resolve_contract_class(str(options["type"]), ())(
        name="contract",
        session_options={"root_packages": ["a", "b"]},
        contract_options=options,
    )
    return bool(contract.check(graph, verbose=False).kept)


modules = st.sampled_from(UNIVERSE)
module_expressions = st.one_of(
    modules, st.sampled_from(["a.*", "b.*", "a.**", "*.a", "a.*.b", "**.b"])
)
edges = st.tuples(modules, modules).filter(lambda e: e[0] != e[1])
as_packages = st.sampled_from(["True", "False"])
# Each example builds a graph and runs import-linter's own check: 60 keep the unit suite
# under 10 s (the example database replays any failure found before).
agreement = settings(max_examples=60, deadline=None)


def runtime_kept(options: dict[str, Any], importer: str, imported: str) -> bool:
    rule = rule_for(spec(options))
    return rule.judge(importer, imported, outside=False) is None


@agreement
@given(
    st.lists(module_expressions, min_size=1, max_size=2),
    st.lists(module_expressions, min_size=1, max_size=2),
    as_packages,
    edges,
    st.booleans(),
)
def test_forbidden_agrees_with_import_linter(
    sources: list[str],
    forbidden: list[str],
    packages: str,
    edge: tuple[str, str],
    ignore: bool,
) -> None:
    options: dict[str, Any] = {
        "type": "forbidden",
        "source_modules": sources,
        "forbidden_modules": forbidden,
        "as_packages": packages,
        "unmatched_ignore_imports_alerting": "none",
    }
    if ignore:
        options["ignore_imports"] = [f"{edge[0]} -> {edge[1]}"]
    assert runtime_kept(options, *edge) == import_linter_kept(options, *edge)


def _overlapping(x: str, y: str) -> bool:
    return x == y or x.startswith(y + ".") or y.startswith(x + ".")


def _disjoint(chosen: Iterable[str]) -> list[str]:
    """Drop every module that contains, or is inside, one kept before it."""
    kept: list[str] = []
    for module in sorted(chosen, key=lambda m: (len(m), m)):
        if not any(_overlapping(module, other) for other in kept):
            kept.append(module)
    return kept


@st.composite
def layer_lists(draw: st.DrawFn, candidates: Sequence[str]) -> list[list[str]]:
    """Two to three layers of modules that do not contain each other."""
    chosen = draw(st.sets(st.sampled_from(candidates), min_size=2, max_size=5).map(_disjoint))
    index = draw(st.lists(st.integers(0, 2), min_size=len(chosen), max_size=len(chosen)))
    layers = [[m for m, i in zip(chosen, index, strict=True) if i == k] for k in range(3)]
    return [layer for layer in layers if layer]


@agreement
@given(layer_lists(UNIVERSE), st.sampled_from(["|", ":"]), edges)
def test_layers_agree_with_import_linter(
    layers: list[list[str]], separator: str, edge: tuple[str, str]
) -> None:
    options = {"type": "layers", "layers": [f" {separator} ".join(layer) for layer in layers]}
    assert runtime_kept(options, *edge) == import_linter_kept(options, *edge)


@agreement
@given(layer_lists(["a", "b", "a.b", "b.a"]), edges)
def test_layers_with_containers_agree_with_import_linter(
    layers: list[list[str]], edge: tuple[str, str]
) -> None:
    # Containers a.a and a.b; layers that do not exist in one are optional.
    options = {
        "type": "layers",
        "containers": ["a.*"],
        "layers": [" | ".join(f"({tail})" for tail in layer) for layer in layers],
    }
    assert runtime_kept(options, *edge) == import_linter_kept(options, *edge)


independent = st.one_of(
    st.sets(modules, min_size=2, max_size=4).map(_disjoint),
    st.sampled_from([["a.*", "b"], ["a.*", "b.a", "b.b.a"]]),
)


@agreement
@given(independent, edges)
def test_independence_agrees_with_import_linter(chosen: list[str], edge: tuple[str, str]) -> None:
    options = {"type": "independence", "modules": chosen}
    assert runtime_kept(options, *edge) == import_linter_kept(options, *edge)


@agreement
@given(
    st.lists(module_expressions, min_size=1, max_size=2),
    st.lists(module_expressions, min_size=0, max_size=2),
    as_packages,
    edges,
)
def test_protected_agrees_with_import_linter(
    protected: list[str], allowed: list[str], packages: str, edge: tuple[str, str]
) -> None:
    options = {
        "type": "protected",
        "protected_modules": protected,
        "allowed_importers": allowed,
        "as_packages": packages,
    }
    assert runtime_kept(options, *edge) == import_linter_kept(options, *edge)


# ---------------------------------------------------------------------------
# Rules from options as the readers deliver them


def test_ini_strings_toml_lists_and_uncovered_types() -> None:
    ini = spec(
        {
            "type": "forbidden",
            "source_modules": "a.a\n    a.b",
            "forbidden_modules": "b",
            "as_packages": "False",
        }
    )
    rule = rule_for(ini)
    assert isinstance(rule, ForbiddenRule)
    assert [str(e) for e in rule.sources] == ["a.a", "a.b"]
    assert not rule.as_packages
    book = build_rules(
        [
            ini,
            spec({"type": "acyclic_siblings", "ancestors": ["a"]}),
            spec({"type": "forbidden", "source_modules": ["a"]}),
        ],
        watch=["b.old"],
    )
    assert [r.id for r in book.rules] == ["c", "ssot:watch-modules"]
    reasons = [reason for _, reason in book.skipped]
    assert reasons == [
        "contracts of type 'acyclic_siblings' are not checked at runtime",
        "the option 'forbidden_modules' is missing",
    ]


def test_outside_code_is_a_source_of_forbidden_modules_inside_the_packages() -> None:
    rule = rule_for(
        spec({"type": "forbidden", "source_modules": ["a.a"], "forbidden_modules": ["a.b", "x"]})
    )
    assert rule.judge("tests.test_x", "a.b.a", outside=True) is not None
    assert rule.judge("tests.test_x", "x", outside=True) is None  # an external library
    assert rule.judge("a.b.b", "a.b.a", outside=False) is None  # not a source module
    breach = rule.judge("a.a.b", "a.b.a", outside=False)
    assert breach is not None
    assert breach.fingerprint == "import: a.a.b -> a.b.a"
    assert breach.reason == "a.a is not allowed to import a.b"


# ---------------------------------------------------------------------------
# Files, double loads and hidden folders


def _tree(root: Path, files: Sequence[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_project_layout_names_files(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        ["pkg/__init__.py", "pkg/a/__init__.py", "pkg/a/m.py", "pkg/hid/x.py", "tests/test_t.py"],
    )
    layout = ProjectLayout(tmp_path, {"pkg": [str(tmp_path / "pkg")]})
    inside = layout.classify(str(tmp_path / "pkg/a/m.py"))
    assert inside is not None
    assert (inside.module, inside.root, inside.in_graph) == ("pkg.a.m", "pkg", True)
    package = layout.classify(str(tmp_path / "pkg/a/__init__.py"))
    assert package is not None and package.module == "pkg.a"
    hidden = layout.classify(str(tmp_path / "pkg/hid/x.py"))
    assert hidden is not None
    assert (hidden.module, hidden.hidden_folder, hidden.in_graph) == ("pkg.hid.x", "pkg/hid", False)
    outside = layout.classify(str(tmp_path / "tests/test_t.py"))
    assert outside is not None
    assert (outside.module, outside.root, outside.display) == (
        "tests.test_t",
        None,
        "tests/test_t.py",
    )
    assert layout.classify("<string>") is None
    assert layout.classify(os.__file__) is None  # the standard library
    assert layout.classify(pytest.__file__) is None  # an installed package
    # pytest-ssot's own frames never stand for the project, even in its own repository.
    repo = ProjectLayout(Path(__file__).parents[2], {})
    assert repo.classify(rules_module.__file__) is None
    assert repo.classify(__file__) is not None


def _module(name: str, file: Path) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(file)
    return module


def test_double_loads_name_both_modules_and_their_sys_path_entries(tmp_path: Path) -> None:
    _tree(tmp_path, ["app/__init__.py", "app/core/__init__.py", "app/core/manager.py"])
    layout = ProjectLayout(tmp_path, {"app": [str(tmp_path / "app")]}, excluded=())
    file = tmp_path / "app/core/manager.py"
    first = _module("app.core.manager", file)
    fake_modules = {
        "app.core.manager": first,
        "core.manager": _module("core.manager", file),
        "alias": first,  # the same object: shares its classes, not a double load
        "json": _module("json", Path(os.__file__)),
    }
    sys_path = [str(tmp_path), str(tmp_path / "app"), "/nowhere"]
    (found,) = find_double_loads(fake_modules, layout, sys_path=sys_path)
    assert found.display == "app/core/manager.py"
    assert [c.names for c in found.copies] == [("app.core.manager", "alias"), ("core.manager",)]
    assert [c.entries for c in found.copies] == [("the rootdir",), ("app",)]
    assert found.fingerprint == "double-load: app/core/manager.py as app.core.manager, core.manager"
    only_aliases = {"app.core.manager": first, "alias": first}
    assert find_double_loads(only_aliases, layout, sys_path=sys_path) == []
    allowed = find_double_loads(
        fake_modules, layout, sys_path=sys_path, allowed=lambda n: n.startswith("core.")
    )
    assert allowed == []


def test_hidden_folders_count_every_file_below_them(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "pkg/__init__.py",
            "pkg/ok/__init__.py",
            "pkg/ok/hidden/a.py",
            "pkg/ok/hidden/sub/__init__.py",
            "pkg/ok/hidden/sub/b.py",
            "pkg/data/readme.txt",
            "pkg/__pycache__/c.py",
            "pkg/not-a-name/d.py",
            "pkg/.venv/e.py",
        ],
    )
    layout = ProjectLayout(tmp_path, {"pkg": [str(tmp_path / "pkg")]})
    (folder,) = find_hidden_folders(layout)
    assert (folder.display, folder.module, folder.files) == ("pkg/ok/hidden", "pkg.ok.hidden", 3)
    assert folder.fingerprint == "hidden-folder: pkg/ok/hidden"
