"""What a home search records, and a search made again from an earlier one (``Search``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_ssot.contract_types._source_index import Resolver, SourceCache, SourceIndex
from pytest_ssot.fixing.homes import Home, HomeFinder, ImportGraph

pytestmark = pytest.mark.library_surface

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


# -- the search by the import graph (a run that built it) ----------------------------------

# The projects of the fixing tests (tests/unit/test_fix_plan.py), and more binding forms.
PROJECTS = {
    "plan": {
        **FILES,
        "pkg/core/api.py": "from pkg.core.impl import Thing\n\n__all__ = ['Thing']\n",
        "pkg/_hidden.py": "from pkg.core.impl import Thing\n\n__all__ = ['Thing']\n",
        "pkg/starred/__init__.py": "from pkg.core.api import *\n",
        "pkg/attr.py": "import pkg.core.impl as m\n\nGadget = m.Thing\n__all__ = ['Gadget']\n",
        "pkg/typed.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from pkg.core.impl import Thing\n"
        ),
        "pkg/deep/__init__.py": "from pkg.deep import inner\n\nThing = inner.Thing\n",
        "pkg/deep/inner.py": "from pkg.shapes import Widget as Thing\n",
        "pkg/dotted.py": "import pkg.core.impl\n\nGizmo = pkg.core.impl.Thing\n",
        # Name the object without binding it: another class, a comment, a string.
        "pkg/things.py": "class Thing:\n    pass\n",
        "pkg/notes.py": "# Thing lives in pkg.core\nTEXT = 'Thing, Widget'\n",
        "pkg/loose/helper.py": "from pkg.core import Thing\n\n__all__ = ['Thing']\n",
        # Imports a module binding Thing, but not Thing: not read by the graph search.
        "pkg/plain.py": "from pkg.core.api import __all__ as exported\n\nNOTE = 'Thing'\n",
        # Imports a submodule binding Thing: its line names the module, not Thing.
        "pkg/through.py": (
            "from pkg.core import user\n\nGadget2 = user.Thing\n__all__ = ['Gadget2']\n"
        ),
        "pkg/multi.py": "from pkg.core.api import (\n    Thing,\n)\n\n__all__ = ['Thing']\n",
    },
}


def import_graph(root: Path) -> ImportGraph:
    """The import graph as a run builds it (grimp), for the search by importers."""
    import grimp

    graph = grimp.build_graph("pkg", cache_dir=None)
    modules = set(graph.modules)

    def importers(module: str) -> set[str]:
        return set(graph.find_modules_that_directly_import(module)) if module in modules else set()

    def lines(importer: str, imported: str) -> list[str]:
        details = graph.get_import_details(importer=importer, imported=imported)
        return [detail["line_contents"] for detail in details]

    return ImportGraph(modules, importers, lines)


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_search_by_importers_gives_the_same_answers_reading_fewer_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    write(tmp_path, PROJECTS[name])
    monkeypatch.syspath_prepend(str(tmp_path))
    asked = [
        (module, symbol)
        for module in ("pkg.legacy", "pkg.shapes", "pkg.alias", "pkg.core", "pkg.deep")
        for symbol in ("OldThing", "Widget", "Thing", "Missing")
    ]
    by_text_cache = SourceCache()
    by_text = finder(by_text_cache)
    by_graph_cache = SourceCache()
    index = SourceIndex(["pkg"], by_graph_cache)
    by_graph = HomeFinder(
        Resolver(index), lambda: index.python_modules(), graph=import_graph(tmp_path)
    )
    for key in asked:
        assert by_graph.find(*key) == by_text.find(*key), key
    assert by_text.find("pkg.legacy", "OldThing").candidates  # the comparison is not empty
    # pkg/things.py and pkg/notes.py name Thing without importing anything that binds it.
    read_by_graph = {Path(p).name for p in by_graph_cache._entries}
    assert not {"things.py", "notes.py", "plain.py"} & read_by_graph
    homes = by_graph.find("pkg.legacy", "OldThing").candidates
    assert Home("pkg.through", "Gadget2") in homes and Home("pkg.multi", "Thing") in homes
    assert by_graph_cache.parses < by_text_cache.parses
    # A folder without __init__.py is not in the graph: looked at by its text, as before.
    assert Home("pkg.loose.helper", "Thing") in by_graph.find("pkg.legacy", "OldThing").candidates
