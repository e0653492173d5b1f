"""What a home search records, and a search made again from an earlier one (``Search``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_ssot.contract_types._source_index import Resolver, SourceCache, SourceIndex
from pytest_ssot.fixing.homes import Home, HomeFinder

FILES = {
    "pkg/__init__.py": "",
    "pkg/core/__init__.py": "from pkg.core.impl import Thing\n",
    "pkg/core/impl.py": "class Thing:\n    pass\n",
    "pkg/core/user.py": "from pkg.core.impl import Thing\n\nUSED = Thing\n",
    "pkg/alias.py": "from pkg.core.impl import Thing as Widget\n",
    "pkg/shapes/__init__.py": "from pkg.alias import Widget\n",
    "pkg/legacy.py": "from pkg.core.impl import Thing as OldThing\n",
    "pkg/other.py": "VALUE = 1\n",
    "pkg/more.py": "def helper():\n    return 2\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, FILES)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def finder(cache: SourceCache) -> HomeFinder:
    index = SourceIndex(["pkg"], cache)
    return HomeFinder(Resolver(index), lambda: index.unpackaged_modules(set()))


HOMES = (Home("pkg.core", "Thing"), Home("pkg.shapes", "Widget"), Home("pkg.core.impl", "Thing"))


def test_an_answer_records_what_it_was_made_from(root: Path) -> None:
    first = finder(SourceCache())
    assert first.find("pkg.legacy", "OldThing").candidates == HOMES
    inputs = first.inputs("pkg.legacy", "OldThing")
    assert inputs is not None
    # The forbidden module, the definer and every module that binds the object, and a
    # submodule looked for and absent (it may be added); not a module naming none of it.
    assert {"pkg.legacy", "pkg.core.impl", "pkg.core", "pkg.alias", "pkg.shapes"} <= inputs.modules
    assert "pkg.legacy.OldThing" in inputs.modules
    assert not {"pkg.other", "pkg.more"} & inputs.modules
    # Every name it is bound under joins the names: a changed file naming Widget (or
    # USED, or OldThing) may be a home.
    assert inputs.names == {"Thing", "Widget", "OldThing", "USED"}
    assert inputs.searches == {("pkg.core.impl", "Thing")}
    search = first.search(("pkg.core.impl", "Thing"))
    assert search is not None and search.names == frozenset(inputs.names)
    assert {"pkg.alias", "pkg.shapes", "pkg.core.user"} <= search.matched


def test_a_search_made_again_from_an_earlier_one_reads_only_what_changed(root: Path) -> None:
    first = finder(SourceCache())
    first.find("pkg.legacy", "OldThing")
    target = ("pkg.core.impl", "Thing")
    search = first.search(target)
    assert search is not None
    # pkg/more.py changes to re-export the object (under a name already looked for).
    write(root, {"pkg/more.py": "from pkg.core.impl import Thing\n\n__all__ = ['Thing']\n"})
    cache = SourceCache()
    again = finder(cache)
    again.prior(target, search)
    again.changed({"pkg.more"})
    assert again.find("pkg.legacy", "OldThing").candidates == (
        HOMES[0],
        Home("pkg.more", "Thing"),
        *HOMES[1:],
    )
    # Read: the prior matches and the changed file; never pkg/other.py.
    read = {Path(path).relative_to(root).as_posix() for path in cache._entries}
    assert "pkg/other.py" not in read
    assert "pkg/more.py" in read
    # The same answer as a search from scratch.
    fresh = finder(SourceCache())
    assert fresh.find("pkg.legacy", "OldThing") == again.find("pkg.legacy", "OldThing")
