"""Planning fixes (pure logic over source facts) and rewriting one file's text."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from pytest_ssot.contract_types._source_index import Resolver, SourceCache, SourceIndex
from pytest_ssot.fixing.homes import Home, HomeFinder, usable_for
from pytest_ssot.fixing.plan import FileEdits, ModuleMove, Planner, relative_name
from pytest_ssot.fixing.sites import MODULE_AS, MODULE_DOTTED, find_sites

pytestmark = pytest.mark.library_surface


def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> SourceIndex:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return SourceIndex(["pkg"], SourceCache())


BASE = {
    "pkg/__init__.py": "",
    "pkg/core/__init__.py": "from pkg.core.impl import Thing\n",
    "pkg/core/impl.py": "class Thing:\n    pass\n\n\ndef _private():\n    pass\n",
    "pkg/core/api.py": "from pkg.core.impl import Thing\n\n__all__ = ['Thing']\n",
    "pkg/core/user.py": "from pkg.core.impl import Thing\n\nUSED = Thing\n",
    "pkg/_hidden.py": "from pkg.core.impl import Thing\n\n__all__ = ['Thing']\n",
    "pkg/legacy.py": "from pkg.core.impl import Thing as OldThing\n",
}


def finder(index: SourceIndex, canonical: str | None = None) -> HomeFinder:
    modules = list(index.unpackaged_modules(set()))
    return HomeFinder(Resolver(index), modules, lambda m: m == canonical)


def test_homes_prefer_canonical_then_public_reexports_then_the_definer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = make(tmp_path, monkeypatch, BASE)
    answer = finder(index).find("pkg.legacy", "OldThing")
    assert answer.reason is None
    # A package and an __all__ export re-export on purpose; pkg.core.user only uses it;
    # pkg._hidden is private; the definer comes last.
    assert answer.candidates == (
        Home("pkg.core", "Thing"),
        Home("pkg.core.api", "Thing"),
        Home("pkg.core.impl", "Thing"),
        Home("pkg._hidden", "Thing"),
    )
    canonical = finder(index, canonical="pkg.core.impl").find("pkg.legacy", "OldThing")
    assert canonical.candidates[0] == Home("pkg.core.impl", "Thing")


def test_homes_found_through_aliases_stars_and_attributes_parse_only_files_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The home search reads only files whose text names the object (under any of the
    # names it has by now) or star-imports: each binding form below must still be found.
    files = {
        **BASE,
        # Imported under another name for its own use (no home), then re-exported from
        # a package under that name: pkg.shapes never writes "Thing".
        "pkg/alias_user.py": "from pkg.core.impl import Thing as Widget\n",
        "pkg/shapes/__init__.py": "from pkg.alias_user import Widget\n",
        # A star import of a module that exports it.
        "pkg/starred/__init__.py": "from pkg.core.api import *\n",
        # An attribute alias.
        "pkg/attr.py": "import pkg.core.impl as m\n\nGadget = m.Thing\n__all__ = ['Gadget']\n",
        # Names that merely contain the word are not read.
        "pkg/other.py": "class Things:\n    pass\n\nSOMETHING = 1\n",
    }
    cache = SourceCache()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    index = SourceIndex(["pkg"], cache)
    answer = finder(index).find("pkg.legacy", "OldThing")
    assert set(answer.candidates) == {
        Home("pkg.core", "Thing"),
        Home("pkg.core.api", "Thing"),
        Home("pkg.core.impl", "Thing"),
        Home("pkg._hidden", "Thing"),
        Home("pkg.shapes", "Widget"),
        Home("pkg.starred", "Thing"),
        Home("pkg.attr", "Gadget"),
    }
    parsed = cache.parses
    assert parsed < len(files)  # pkg/other.py (and the empty pkg/__init__.py) unread
    facts = {key for entry in cache._entries.values() for key in entry.facts}
    assert not any(key.startswith("pkg.other") for key in facts)


def test_unprovable_names_are_not_fixable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = make(
        tmp_path,
        monkeypatch,
        {
            **BASE,
            "pkg/typed.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from pkg.core.impl import Thing
            """,
            "pkg/lazy.py": """
                def __getattr__(name):
                    from pkg.core import impl
                    return getattr(impl, name)
            """,
            "pkg/value.py": "LIMIT = 3\n",
            "pkg/star.py": "from pkg.core.impl import *\n",
        },
    )
    homes = finder(index)
    assert "conditionally" in (homes.find("pkg.typed", "Thing").reason or "")
    assert "__getattr__" in (homes.find("pkg.lazy", "Thing").reason or "")
    assert "defines LIMIT itself" in (homes.find("pkg.value", "LIMIT").reason or "")
    assert "is a module" in (homes.find("pkg", "core").reason or "")
    # Followed through a star import, which binds only public names.
    assert homes.find("pkg.star", "Thing").candidates[0] == Home("pkg.core", "Thing")
    assert homes.find("pkg.star", "_private").reason is not None


def test_a_module_never_imports_from_itself_or_its_own_package() -> None:
    assert not usable_for("pkg.core.user", Home("pkg.core", "Thing"))
    assert not usable_for("pkg.core", Home("pkg.core", "Thing"))
    assert usable_for("pkg.web", Home("pkg.core", "Thing"))


@pytest.mark.parametrize(
    ("importer", "is_package", "target", "expected"),
    [
        ("pkg.web.view", False, "pkg.core", "..core"),
        ("pkg.web.view", False, "pkg.web.other", ".other"),
        ("pkg.web", True, "pkg.web.other", ".other"),
        ("pkg.web.view", False, "pkg", ".."),
        ("pkg.web.view", False, "other.mod", "other.mod"),
    ],
)
def test_relative_names(importer: str, is_package: bool, target: str, expected: str) -> None:
    assert relative_name(importer, is_package, target) == expected


def test_a_rejected_home_falls_back_to_the_next_and_says_why_when_none_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = make(
        tmp_path,
        monkeypatch,
        {**BASE, "pkg/web.py": "from pkg.legacy import OldThing as T\n"},
    )
    planner = Planner(finder(index), index.module_file, lambda p: p.name)
    requests = planner.collect([("pkg.web", "pkg.legacy")])
    candidates = planner.candidate_imports(requests)
    assert ("pkg.web", "pkg.core") in candidates
    plan = planner.finish(requests, {("pkg.web", "pkg.core"): "would break contract 'c'"})
    edge = plan.edges[("pkg.web", "pkg.legacy")]
    assert edge.lines() == [
        "fix: from pkg.legacy import OldThing as T  ->  from pkg.core.api import Thing as T"
    ]
    everything = dict.fromkeys(candidates, "would break contract 'c'")
    edge = planner.finish(requests, everything).edges[("pkg.web", "pkg.legacy")]
    assert not edge.fixable
    assert edge.lines() == [
        "not fixable: OldThing: no allowed home: importing it from pkg.core would break "
        "contract 'c'"
    ]


def test_module_bindings_list_the_attributes_used_or_what_blocks_them() -> None:
    source = textwrap.dedent(
        """
        import pkg.legacy as m
        import pkg.legacy

        def f():
            return m.Thing(), pkg.legacy.Other, pkg.other.x
        """
    )
    sites = find_sites(ast.parse(source), "pkg.web", False, "pkg.legacy")
    assert [(s.kind, s.names, s.problem) for s in sites] == [
        (MODULE_AS, (("Thing", None),), None),
        (MODULE_DOTTED, (("Other", None),), None),
    ]
    bare = find_sites(ast.parse("import pkg.legacy as m\nprint(m)\n"), "x", False, "pkg.legacy")
    assert bare[0].problem == "m is used as a module object, not only m.<name>"


# ---------------------------------------------------------------------------
# The rewrite

libcst = pytest.importorskip("libcst")


def edits(**kwargs: object) -> FileEdits:
    values: dict[str, object] = {
        "path": Path("x.py"),
        "display": "x.py",
        "module": "pkg.web.view",
        "is_package": False,
        "from_moves": {},
        "module_moves": {},
        "relative": {},
    }
    values.update(kwargs)
    return FileEdits(**values)  # type: ignore[arg-type]


MOVES = {"pkg.legacy": {"A": Home("pkg.core", "A"), "B": Home("pkg.core", "B2")}}


def rewrite(source: str, **kwargs: object) -> str:
    from pytest_ssot.fixing.rewrite import rewrite_source

    return rewrite_source(textwrap.dedent(source).lstrip("\n"), edits(**kwargs))


def test_a_whole_statement_keeps_its_parentheses_and_comments() -> None:
    out = rewrite(
        """
        # leading comment
        from pkg.legacy import (  # why
            A,  # first
            B,
        )
        """,
        from_moves=MOVES,
    )
    assert out == (
        "# leading comment\nfrom pkg.core import (  # why\n    A,  # first\n    B2 as B,\n)\n"
    )


def test_split_merge_semicolons_and_nested_imports() -> None:
    out = rewrite(
        """
        from pkg.core import A
        import os; from pkg.legacy import A, B, C


        def f():
            from pkg.legacy import B
            return B
        """,
        from_moves=MOVES,
    )
    assert out == (
        "from pkg.core import A, B2 as B\n"
        "import os; from pkg.legacy import C\n"
        "\n\n"
        "def f():\n"
        "    from pkg.core import B2 as B\n"
        "    return B\n"
    )


def test_module_moves_rewrite_the_import_and_the_uses() -> None:
    out = rewrite(
        """
        import pkg.legacy as m
        import pkg.legacy

        X = (m.A, m.B, pkg.legacy.A)
        """,
        module_moves={
            "m": ModuleMove("pkg.legacy", "pkg.core", {"A": "A", "B": "B2"}, dotted=False),
            "pkg.legacy": ModuleMove("pkg.legacy", "pkg.core", {"A": "A"}, dotted=True),
        },
    )
    assert out == "import pkg.core as m\nimport pkg.core\n\nX = (m.A, m.B2, pkg.core.A)\n"


def test_relative_statements_stay_relative() -> None:
    out = rewrite(
        "from ..legacy import A, C\n",
        from_moves=MOVES,
        relative={"pkg.legacy": True},
    )
    assert out == "from ..legacy import C\nfrom ..core import A\n"


# ---------------------------------------------------------------------------
# Applying: the safety rules


def test_apply_refuses_what_is_not_ours_and_keeps_symlinks(tmp_path: Path) -> None:
    from pytest_ssot.fixing.apply import fix_file, refusal

    root = tmp_path / "root"
    (root / "pkg").mkdir(parents=True)
    outside = tmp_path / "outside.py"
    outside.write_text("from pkg.legacy import A\n")
    assert "outside the rootdir" in (refusal(outside, root) or "")
    installed = root / "venv" / "site-packages" / "mod.py"
    installed.parent.mkdir(parents=True)
    installed.write_text("from pkg.legacy import A\n")
    assert "site-packages" in (refusal(installed, root) or "")

    real = root / "pkg" / "real.py"
    real.write_text("from pkg.legacy import A\n")
    link = root / "pkg" / "link.py"
    link.symlink_to(real)
    outcome = fix_file(edits(path=link, display="pkg/link.py", from_moves=MOVES), root, write=True)
    assert outcome.written
    assert link.is_symlink()
    assert real.read_text() == "from pkg.core import A\n"

    broken = root / "pkg" / "broken.py"
    broken.write_text("from pkg.legacy import A\nprint('a' +)\n")
    outcome = fix_file(edits(path=broken, from_moves=MOVES), root, write=True)
    assert outcome.skipped is not None and "does not parse" in outcome.skipped
    assert broken.read_text() == "from pkg.legacy import A\nprint('a' +)\n"


def test_diff_writes_nothing(tmp_path: Path) -> None:
    from pytest_ssot.fixing.apply import fix_file

    path = tmp_path / "view.py"
    path.write_text("from pkg.legacy import A\n")
    outcome = fix_file(edits(path=path, display="view.py", from_moves=MOVES), tmp_path, write=False)
    assert not outcome.written
    assert outcome.diff.splitlines()[2:] == [
        "@@ -1 +1 @@",
        "-from pkg.legacy import A",
        "+from pkg.core import A",
    ]
    assert path.read_text() == "from pkg.legacy import A\n"


def test_a_batch_write_replaces_each_file_and_reports_what_it_cannot(tmp_path: Path) -> None:
    from pytest_ssot.fileio import write_atomic_batch

    plain = tmp_path / "a.py"
    plain.write_bytes(b"old\n")
    plain.chmod(0o600)
    real = tmp_path / "real.py"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    folder = tmp_path / "folder.py"
    folder.mkdir()
    failed = write_atomic_batch([(plain, b"new\r\n"), (link, b"linked"), (folder, b"x")])
    assert plain.read_bytes() == b"new\r\n" and (plain.stat().st_mode & 0o777) == 0o600
    assert link.is_symlink() and real.read_bytes() == b"linked"
    assert list(failed) == [folder] and "directory" in failed[folder]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "folder.py", "link.py", "real.py"]


def test_the_html_map_counts_fixable_and_manual_violations() -> None:
    from pytest_ssot.reporting.html_report import _fix_counts

    line = _fix_counts({"fixes": {"fixable": 3, "not_fixable": 1}})
    assert 'data-fixable="3"' in line and 'data-not-fixable="1"' in line
    assert "3 fixable by <code>pytest --ssot --ssot-fix</code>, 1 need a human" in line
    assert _fix_counts({"fixes": {"fixable": 0, "not_fixable": 0}}) == ""
    assert _fix_counts({}) == ""  # reports written before the field existed
