"""The contract types' source reading: facts from the syntax tree, names, the cache, patterns."""

from __future__ import annotations

import ast
import fnmatch
import itertools
import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import grimp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_ssot.contract_types import _source_index
from pytest_ssot.contract_types._matching import ModulePattern, NamePattern, class_regex
from pytest_ssot.contract_types._source_index import (
    Definition,
    Located,
    ModuleFacts,
    ParseFailure,
    Reference,
    Resolver,
    SourceCache,
    SourceIndex,
    definition_question,
    extract_facts,
)
from pytest_ssot.contract_types.unique_definition import _duplicates, _Place

pytestmark = pytest.mark.library_surface


def facts_of(source: str, module: str = "pkg.mod", is_package: bool = False) -> ModuleFacts:
    text = textwrap.dedent(source)
    return extract_facts(ast.parse(text), module, is_package, text)


# ---------------------------------------------------------------------------
# Facts


def test_definitions_are_top_level_classes_and_functions_also_in_if_and_try() -> None:
    facts = facts_of(
        """
        import typing

        class A(base.Base, typing.Generic[T]):
            class Nested: ...
            def method(self): ...

        if typing.TYPE_CHECKING:
            def b(): ...
        else:
            async def b(): ...

        try:
            class C: ...
        except ImportError:
            C = None

        def outer():
            class Hidden: ...
        """
    )
    assert facts.definitions == (
        Definition("A", "class", 4, ("base.Base", "typing.Generic")),
        Definition("b", "function", 9),
        Definition("C", "class", 14),
        Definition("outer", "function", 18),
    )


def test_imports_and_aliases_are_references_not_definitions() -> None:
    facts = facts_of(
        """
        import a.b.c
        import x.y as z
        from .sibling import Thing as Other
        from .. import up
        from pkg.impl import *
        Alias = Other
        Deep = z.Inner
        """,
        module="pkg.sub.mod",
    )
    assert facts.definitions == ()
    assert facts.symbols == {
        "a": Reference("a", 2, module="a"),
        "z": Reference("z", 3, module="x.y"),
        "Other": Reference("Other", 4, module="pkg.sub.sibling", attribute="Thing"),
        "up": Reference("up", 5, module="pkg", attribute="up"),
        "Alias": Reference("Alias", 7, expression="Other"),
        "Deep": Reference("Deep", 8, expression="z.Inner"),
    }
    assert facts.star_imports == ("pkg.impl",)


def test_relative_imports_in_a_package_init_start_at_the_package() -> None:
    facts = facts_of("from .impl import X\n", module="pkg.sub", is_package=True)
    assert facts.symbols["X"] == Reference("X", 1, module="pkg.sub.impl", attribute="X")


def test_forwarding_is_not_own_code() -> None:
    facts = facts_of(
        '''
        """A shim."""
        import warnings
        from warnings import warn
        from typing import TYPE_CHECKING
        from pkg.new import Thing, helper

        if TYPE_CHECKING:
            from pkg.new import Other
        try:
            from pkg.new import fast
        except ImportError:
            from pkg.new import slow as fast

        OldThing = Thing
        A, B = Thing, helper
        Typed: type = Thing
        __all__ = ["OldThing"]
        __all__ += ["A"]
        __all__.extend(["B"])
        __version__ = "1"
        warnings.warn("deprecated", DeprecationWarning)
        warn("deprecated")
        ...

        def __getattr__(name):
            return getattr(Thing, name)
        '''
    )
    assert facts.own_code == ()


def test_own_code_is_named_and_located() -> None:
    facts = facts_of(
        """
        from pkg.new import Thing
        import logging

        class Local(Thing): ...
        def helper(): ...
        CACHE = {}
        COUNT: int = 0
        total += 1
        logging.warn("not warnings.warn")
        for x in range(3):
            pass
        """
    )
    assert [(c.kind, c.name, c.line) for c in facts.own_code] == [
        ("class", "Local", 5),
        ("function", "helper", 6),
        ("assignment", "CACHE", 7),
        ("assignment", "COUNT", 8),
        ("assignment", "total", 9),
        ("statement", '<logging.warn("not warnings.warn")>', 10),
        ("statement", "<for x in range(3):>", 11),
    ]


# ---------------------------------------------------------------------------
# The cache and the index


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_cache_parses_once_and_again_after_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text("class A: ...\n")
    cache = SourceCache()
    first = cache.facts(path, "mod", False)
    assert cache.facts(path, "mod", False) is first
    assert cache.parses == 1
    stat = path.stat()
    path.write_text("class B: ...\n")  # same size: only the modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = cache.facts(path, "mod", False)
    assert cache.parses == 2
    assert isinstance(second, ModuleFacts)
    assert [d.name for d in second.definitions] == ["B"]


def test_cache_reports_a_parse_failure_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("x = 1\ndef broken(:\n")
    failure = SourceCache().facts(path, "bad", False)
    assert isinstance(failure, ParseFailure)
    assert failure.line == 2
    assert failure.message.startswith("SyntaxError: ")


def test_source_warnings_are_not_parse_failures(tmp_path: Path) -> None:
    # Our own suite runs with filterwarnings = error, like many projects.
    path = tmp_path / "escapes.py"
    path.write_text('PATTERN = "\\d+"\nclass A: ...\n')
    facts = SourceCache().facts(path, "escapes", False)
    assert isinstance(facts, ModuleFacts)


def test_cache_remembers_text_searches(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text("class Manager: ...\n")
    cache = SourceCache()
    regex = re.compile(class_regex(frozenset({"Manager"})))
    assert cache.text_matches(path, regex)
    path.write_text("class Other: ...\n")
    os.utime(path, ns=(0, 0))
    assert not cache.text_matches(path, regex)
    assert cache.parses == 0


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceIndex:
    write(
        tmp_path,
        {
            "idxpkg/__init__.py": "from idxpkg.impl import Public\n",
            "idxpkg/impl.py": """
                class _Impl: ...
                Public = _Impl
                """,
            "idxpkg/star.py": "from idxpkg.impl import *\n",
            "idxpkg/sub/__init__.py": "",
            "idxpkg/sub/child.py": """
                import idxpkg.impl
                import idxpkg as root
                from idxpkg import star

                class Direct(idxpkg.impl._Impl): ...
                class ViaRoot(root.Public): ...
                class ViaStar(star.Public): ...
                class Grandchild(Direct): ...
                class Unrelated(object): ...
                """,
            "idxpkg/scripts/run.py": "def main(): ...\n",
            "idxpkg/scripts/deeper/__init__.py": "",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return SourceIndex(["idxpkg"], SourceCache())


def test_index_maps_modules_to_files(package: SourceIndex) -> None:
    base = package.package_dirs["idxpkg"][0]
    assert package.module_file("idxpkg") == base / "__init__.py"
    assert package.module_file("idxpkg.sub.child") == base / "sub" / "child.py"
    assert package.module_file("idxpkg.missing") is None
    assert package.module_file("other.module") is None


MODULES_OF_PACKAGE = ("idxpkg", "idxpkg.impl", "idxpkg.star", "idxpkg.sub", "idxpkg.sub.child")


def test_one_run_looks_at_each_file_once_and_lists_each_folder_once(
    package: SourceIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = package.cache
    listed: list[str] = []
    scandir = os.scandir

    def counting_scandir(path: str) -> object:
        listed.append(path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    question = definition_question([NamePattern("Direct")])
    with cache.one_run():
        # Two contracts of one run: two indexes, one map and one look at each file.
        for index in (package, SourceIndex(["idxpkg"], cache)):
            found = [m for m in MODULES_OF_PACKAGE if index.may_define(m, question)]
            assert found == ["idxpkg.sub.child"]
        assert cache.looks == len(MODULES_OF_PACKAGE)
        assert sorted(Path(p).name for p in listed) == ["idxpkg", "sub"]
        assert cache.reads == len(MODULES_OF_PACKAGE)
    # Outside a run, every index maps on its own and every question looks again.
    listed.clear()
    for index in (package, SourceIndex(["idxpkg"], cache)):
        assert [m for m in MODULES_OF_PACKAGE if index.may_define(m, question)] == [
            "idxpkg.sub.child"
        ]
    assert cache.looks == 3 * len(MODULES_OF_PACKAGE)
    assert sorted(Path(p).name for p in listed) == ["idxpkg", "idxpkg", "sub", "sub"]
    assert cache.reads == len(MODULES_OF_PACKAGE)  # the bytes are kept while unchanged


def test_the_next_run_sees_files_edited_added_and_removed(package: SourceIndex) -> None:
    cache = package.cache
    base = package.package_dirs["idxpkg"][0]
    question = definition_question([NamePattern("Fresh")])
    with cache.one_run():
        assert not package.may_define("idxpkg.impl", question)
        assert package.module_file("idxpkg.added") is None
        assert package.module_file("idxpkg.star") == base / "star.py"
    (base / "impl.py").write_text("class Fresh: ...\n")
    (base / "added.py").write_text("class Fresh: ...\n")
    (base / "star.py").unlink()
    with cache.one_run():
        assert package.may_define("idxpkg.impl", question)
        assert package.module_file("idxpkg.added") == base / "added.py"
        assert package.may_define("idxpkg.added", question)
        assert package.module_file("idxpkg.star") is None
        facts = package.facts("idxpkg.impl")
        assert isinstance(facts, ModuleFacts)
        assert [d.name for d in facts.definitions] == ["Fresh"]


def test_index_lists_what_grimp_skips(package: SourceIndex) -> None:
    graph = grimp.build_graph("idxpkg", cache_dir=None)
    base = package.package_dirs["idxpkg"][0]
    assert package.unpackaged_modules(set(graph.modules)) == {
        "idxpkg.scripts.deeper": base / "scripts" / "deeper" / "__init__.py",
        "idxpkg.scripts.run": base / "scripts" / "run.py",
    }


def test_the_module_listing_walks_as_python_would_import(tmp_path: Path) -> None:
    """Hidden folders, __pycache__ and names that are no identifiers are skipped; a linked
    folder is not entered (os.walk's default), a linked or dangling .py file is listed."""
    base = tmp_path / "walkpkg"
    for name in (
        "__init__.py",
        "a.py",
        "ns/b.py",
        "sub/__init__.py",
        "sub/c.py",
        ".hidden/d.py",
        "__pycache__/e.py",
        "not-a-name.py",
        "notes.txt",
    ):
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text("")
    (base / "linked").symlink_to(base / "sub", target_is_directory=True)
    (base / "also.py").symlink_to(base / "a.py")
    (base / "gone.py").symlink_to(base / "missing.py")
    listed = list(_source_index._python_modules("walkpkg", str(base)))
    assert listed == [
        ("walkpkg", str(base / "__init__.py")),
        ("walkpkg.a", str(base / "a.py")),
        ("walkpkg.also", str(base / "also.py")),
        ("walkpkg.gone", str(base / "gone.py")),
        ("walkpkg.ns.b", str(base / "ns" / "b.py")),
        ("walkpkg.sub", str(base / "sub" / "__init__.py")),
        ("walkpkg.sub.c", str(base / "sub" / "c.py")),
    ]


def test_resolver_follows_aliases_reexports_and_star_imports(package: SourceIndex) -> None:
    resolver = Resolver(package)
    impl = resolver.resolve("idxpkg", "Public")
    assert impl is not None and impl.qualname == "idxpkg.impl._Impl"
    assert resolver.resolve("idxpkg.star", "Public") == impl
    child = resolver.facts("idxpkg.sub.child")
    assert child is not None
    subclasses = {
        d.name
        for d in child.definitions
        if resolver.is_subclass(Located("idxpkg.sub.child", d), impl)
    }
    assert subclasses == {"Direct", "ViaRoot", "ViaStar", "Grandchild"}


# ---------------------------------------------------------------------------
# Patterns

NAME_CHARS = "ab_"


@given(
    pattern=st.text(alphabet=NAME_CHARS + "*?", min_size=1, max_size=6),
    name=st.text(alphabet=NAME_CHARS, min_size=1, max_size=8),
)
def test_name_patterns_match_like_fnmatch(pattern: str, name: str) -> None:
    assert NamePattern(pattern).matches(name) == fnmatch.fnmatchcase(name, pattern)


@given(
    pattern=st.text(alphabet=NAME_CHARS + "*?", min_size=1, max_size=6),
    name=st.text(alphabet=NAME_CHARS, min_size=1, max_size=8),
    template=st.sampled_from(
        [
            "class {}(Base):\n    pass\n",
            "class {}:\n    pass\n",
            "class  {}[T]:\n    pass\n",
            "if x:\n\tdef {}(a):\n\t\tpass\n",
            "async def {}():\n    pass\n",
            "class \\\n    {}:\n    pass\n",
        ]
    ),
)
def test_definition_regex_finds_exactly_the_matching_definitions(
    pattern: str, name: str, template: str
) -> None:
    # The text search that skips files before parsing must never miss one.
    source = template.format(name)
    regex = re.compile(NamePattern(pattern).definition_regex())
    assert (regex.search(source) is not None) == NamePattern(pattern).matches(name)


@given(
    pattern=st.text(alphabet=NAME_CHARS + "*?", min_size=1, max_size=6),
    name=st.text(alphabet=NAME_CHARS, min_size=1, max_size=8),
)
def test_every_matching_name_contains_the_patterns_literal(pattern: str, name: str) -> None:
    # The substring prefilter may skip a file only if no matching name can be in it.
    if NamePattern(pattern).matches(name):
        assert NamePattern(pattern).literal in name


def test_files_are_read_once_and_prefiltered_by_their_literals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_name = tmp_path / "a.py"
    with_name.write_text("class PaymentGateway:\n    pass\n")
    mention = tmp_path / "b.py"
    mention.write_text("# PaymentGateway lives in a.py\n")
    without = tmp_path / "c.py"
    without.write_text("x = 1\n" * 1000)
    reads: list[Path] = []
    searched: list[str] = []
    real_read = _source_index._read

    def counting_read(path: _source_index.StrPath) -> bytes:
        reads.append(Path(path))
        return real_read(path)

    class CountingPattern:
        """A compiled regex that records the texts it searches."""

        def __init__(self, pattern: str) -> None:
            self._regex = re.compile(pattern)
            self.pattern = pattern

        def search(self, text: str) -> re.Match[str] | None:
            searched.append(text)
            return self._regex.search(text)

    monkeypatch.setattr(_source_index, "_read", counting_read)
    cache = SourceCache()
    pattern = NamePattern("Payment*")
    regex = CountingPattern(pattern.definition_regex())
    other = CountingPattern(class_regex(frozenset({"PaymentGateway"})))
    found = {
        p.name: cache.text_matches(p, regex, [pattern.literal])  # type: ignore[arg-type]
        for p in (with_name, mention, without)
    }
    assert found == {"a.py": True, "b.py": False, "c.py": False}
    assert len(searched) == 2  # c.py holds no "Payment": no regex search at all
    assert cache.text_matches(with_name, other, ["PaymentGateway"])  # type: ignore[arg-type]
    assert cache.facts(with_name, "pkg.a", False)
    # Two regexes and a parse: each file was read once.
    assert sorted(p.name for p in reads) == ["a.py", "b.py", "c.py"]


@pytest.mark.parametrize("text", ["two words", "pkg.Name", "1abc", "", "a-b"])
def test_names_that_are_no_pattern_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="is not a name pattern"):
        NamePattern(text)


SEGMENTS = st.sampled_from(["a", "b", "c"])
MODULES = st.lists(st.lists(SEGMENTS, min_size=1, max_size=4), min_size=1, max_size=12)
EXPRESSION_PARTS = st.lists(st.sampled_from(["a", "b", "*", "**"]), min_size=1, max_size=4)


def _valid(parts: list[str]) -> bool:
    # import-linter's rules: ** is not followed by a wildcard, * not by **.
    return not any(
        (first == "**" and second in ("*", "**")) or (first == "*" and second == "**")
        for first, second in itertools.pairwise(parts)
    )


@given(modules=MODULES, parts=EXPRESSION_PARTS.filter(_valid))
def test_module_patterns_match_like_grimp(modules: list[list[str]], parts: list[str]) -> None:
    graph = grimp.ImportGraph()
    names = {".".join(["a", *m]) for m in modules} | {"a"}
    for name in names:
        graph.add_module(name)
    expression = ".".join(parts)
    ours = {name for name in names if ModulePattern(expression).matches(name)}
    assert ours == set(graph.find_matching_modules(expression))


@given(modules=MODULES, parts=EXPRESSION_PARTS.filter(_valid))
def test_module_patterns_as_packages_match_a_module_or_an_ancestor(
    modules: list[list[str]], parts: list[str]
) -> None:
    names = {".".join(["a", *m]) for m in modules} | {"a"}
    expression = ".".join(parts)
    pattern = ModulePattern(expression)
    for name in names:
        segments = name.split(".")
        ancestors = {".".join(segments[:i]) for i in range(1, len(segments) + 1)}
        graph = grimp.ImportGraph()
        for ancestor in ancestors:
            graph.add_module(ancestor)
        expected = bool(set(graph.find_matching_modules(expression)) & ancestors)
        assert pattern.matches(name, as_package=True) == expected, name


def test_module_patterns_as_packages_include_descendants() -> None:
    pattern = ModulePattern("a.b")
    assert pattern.matches("a.b.c", as_package=True)
    assert not pattern.matches("a.b.c")
    assert not pattern.matches("a.bc", as_package=True)


def test_long_duplicate_lists_are_shortened() -> None:
    found = [
        _Place(f"pkg.m{i}", Path(f"m{i}.py"), Definition("helper", "function", 1)) for i in range(5)
    ]
    messages = [v.message for v in _duplicates("helper", found, set(), has_canonical=False)]
    assert messages[0] == (
        "pkg.m0 defines function helper, as do pkg.m1, pkg.m2, pkg.m3 and 1 more "
        "(declare the single source with canonical_modules, and remove the others)"
    )
    assert messages[4].startswith(
        "pkg.m4 defines function helper, as do pkg.m0, pkg.m1, pkg.m2 and"
    )
    two = [v.message for v in _duplicates("helper", found[:2], set(), has_canonical=False)]
    assert two[1].startswith("pkg.m1 defines function helper, as does pkg.m0 (")


def _record(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A file's stored record: its stat line, and the JSON text of its answers and facts."""
    stat, text = data["files"][str(path)]
    assert isinstance(stat, str)
    record: dict[str, Any] = json.loads(text)
    return record


def test_stored_facts_are_written_back_as_read_and_only_new_ones_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_source_index, "RACY_NS", 0)  # no waiting for the files to age
    first_file, second_file, third_file = (tmp_path / f"{n}.py" for n in "abc")
    first_file.write_text("class A: ...\n")
    second_file.write_text("class B: ...\n")
    third_file.write_text("class C: ...\n")
    earlier = SourceCache()
    earlier.facts(first_file, "a", False)
    earlier.facts(third_file, "c", False)
    stored = json.loads(json.dumps(earlier.stored_data()))
    encoded: list[str] = []
    encode = _source_index._facts_to_json

    def counting(facts: ModuleFacts | ParseFailure) -> object:
        encoded.append(facts.module if isinstance(facts, ModuleFacts) else "?")
        return encode(facts)

    monkeypatch.setattr(_source_index, "_facts_to_json", counting)
    decoded: list[str] = []
    read_back = _source_index._read_back

    def counting_read_back(entry: Any, text: object) -> None:
        decoded.append(str(text))
        read_back(entry, text)

    monkeypatch.setattr(_source_index, "_read_back", counting_read_back)
    cache = SourceCache()
    cache.load_stored(stored)
    found = cache.facts(first_file, "a", False)
    assert isinstance(found, ModuleFacts) and found.definitions[0].name == "A"
    assert cache.parses == 0
    cache.facts(second_file, "b", False)
    written = cache.stored_data()
    assert encoded == ["b"]
    assert decoded == [stored["files"][str(first_file)][1]]  # c's record stays a string
    # Records read back (a) or not even looked at (c) are written as they were read.
    for path in (first_file, third_file):
        assert written["files"][str(path)][1] is stored["files"][str(path)][1]
    assert _record(written, second_file)["facts"]
    # Stored twice in one run (the contracts, then the fix plan): encoded once.
    assert (
        cache.stored_data()["files"][str(second_file)][1] is written["files"][str(second_file)][1]
    )
    assert encoded == ["b"]
    # A new answer about a file read back writes its record anew, with the old facts.
    cache.may_define(first_file, definition_question([NamePattern("A")]))
    rewritten = _record(cache.stored_data(), first_file)
    assert rewritten["facts"] == _record(stored, first_file)["facts"]
    assert list(rewritten["answers"].values()) == [True]


def test_stored_records_that_cannot_be_read_back_are_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_source_index, "RACY_NS", 0)
    path = tmp_path / "a.py"
    path.write_text("class A: ...\n")
    earlier = SourceCache()
    expected = earlier.facts(path, "a", False)
    stored = json.loads(json.dumps(earlier.stored_data()))
    stat, text = stored["files"][str(path)]
    record = json.loads(text)
    for facts in record["facts"].values():
        del facts["definitions"]
    for broken in (json.dumps(record), "{not json", 42):
        stored["files"][str(path)] = [stat, broken]
        cache = SourceCache()
        cache.load_stored(stored)
        assert cache.facts(path, "a", False) == expected
        assert cache.parses == 1
        again = SourceCache()
        again.load_stored(json.loads(json.dumps(cache.stored_data())))
        assert again.facts(path, "a", False) == expected
        assert again.parses == 0


DEFINING_SOURCES = {
    "plain": "class Zähler:\n    pass\n\n\ndef make_zähler():\n    return Zähler()\n",
    "continued": "class \\\n    Zähler(object): ...\n",
    "tabs": "class\tZähler(\n    object,\n): ...\n\nasync def\tmake_zähler(): ...\n",
    "nested": "if True:\n    class Zähler: ...\nelse:\n    def make_zähler(): ...\n",
}
QUESTIONS = {
    "exact": ["Zähler"],
    "function": ["make_zähler"],
    "pattern": ["Zä*"],
    "many": ["Zähler", *(f"Other{i}" for i in range(6))],  # past FEW_NAMES: no substring filter
}


@pytest.mark.parametrize("source", DEFINING_SOURCES)
@pytest.mark.parametrize("names", QUESTIONS)
def test_may_define_never_misses_what_the_parser_finds(
    tmp_path: Path, source: str, names: str
) -> None:
    path = tmp_path / "mod.py"
    text = DEFINING_SOURCES[source]
    path.write_text(text, encoding="utf-8")
    patterns = [NamePattern(n) for n in QUESTIONS[names]]
    defined = [d.name for d in facts_of(text).definitions]
    expected = any(p.matches(name) for p in patterns for name in defined)
    cache = SourceCache()
    assert cache.may_define(path, definition_question(patterns)) or not expected
    # A file that only mentions the names, in a comment and a string, defines nothing.
    other = tmp_path / "other.py"
    other.write_text("# Zähler, make_zähler\nx = 'class Zähler'\n", encoding="utf-8")
    assert not SourceCache().may_define(other, definition_question(patterns, ("def",)))
