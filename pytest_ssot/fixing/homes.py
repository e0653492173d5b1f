"""Where a name imported from a forbidden module really lives, and which modules export it too.

Names are followed with the contract types' ``Resolver`` (imports, aliases, ``__all__``,
star imports), so "the same object" means what it means to ``single_source``: the same
class or function definition. A binding that is conditional anywhere on the way (an
``if``, a ``try``/``except ImportError`` fallback) or that only a module ``__getattr__``
provides is never offered as a fix: which object it is cannot be proven statically.

Homes are, best first: a module a contract names canonical; a public module (no ``_``
segment) that re-exports the object on purpose (a package ``__init__``, or the name in
its ``__all__``); the module that defines it. A module that merely imports a name for
its own use is no home for it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from pytest_ssot.contract_types._source_index import (
    Definition,
    ModuleFacts,
    Reference,
    Resolver,
    SourceIndex,
    star_exports,
)


@dataclass(frozen=True, order=True)
class Home:
    """``from <module> import <name>`` gives the object wanted."""

    module: str
    name: str


@dataclass(frozen=True)
class HomeAnswer:
    """The modules that export the object a name is bound to, best first; or why there are none."""

    candidates: tuple[Home, ...] = ()
    reason: str | None = None
    defined_in: str | None = None
    """The module that defines the object, when it was found."""


@dataclass
class Inputs:
    """What an answer was made from: the modules whose facts were read (or looked for and
    not found), the names the object was looked for under in every module's text, and
    the searches for homes it used (``Search``, by object).

    The answer stands while none of those modules changes and no changed or added file
    names one of the names or has a star import (it may bind the object now), since a
    module binds an object only by writing one of its names or through a star import
    (what ``HomeFinder.homes_of`` itself relies on). ``fixing/plan_store.py`` keeps
    answers between runs on that condition.
    """

    modules: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    searches: set[tuple[str, str]] = field(default_factory=set)

    def add(self, other: Inputs) -> None:
        self.modules |= other.modules
        self.names |= other.names
        self.searches |= other.searches


@dataclass(frozen=True)
class Search:
    """One search for an object's homes: the names it ended with, the modules it read
    (those whose text held one of the names, or a star import), and those found to bind
    the object (``binders``).

    Kept between runs: searching again for the same object after some files changed, a
    module that did not change holds the same words, so only the changed ones need
    reading to know which modules to look at (``HomeFinder.prior``). A search that went
    by the import graph (``complete`` False) read only the importers of binders: searched
    again from it, a changed module that comes to bind the object sends the search back
    to reading every module.
    """

    names: frozenset[str]
    matched: frozenset[str]
    binders: frozenset[str] = frozenset()
    complete: bool = True


@dataclass(frozen=True)
class ImportGraph:
    """The run's import graph, when it was built: which modules it holds, and which of them
    import a module directly. A module binds an object only through an import of a module
    that binds it (or defines it), so a search for homes need only look at the importers
    of the modules found to bind it, and at the modules the graph does not hold."""

    modules: Collection[str]
    importers: Callable[[str], Iterable[str]]
    lines: Callable[[str, str], Sequence[str]] = lambda importer, imported: ()
    """The source lines of one module's imports of another (empty when not known)."""


_FROM_LINE = re.compile(r"from\s+([\w.]+)\s+import\s+([\w\s,]+)")


def _binds_none_of(line: str, module: str, names: set[str]) -> bool:
    """Whether an import line certainly binds none of ``names`` from ``module``: a whole
    ``from <module> import a, b as c`` on one line (absolute, no star, no parenthesis or
    continuation) importing none of them. Anything else may bind one."""
    found = _FROM_LINE.fullmatch(line.strip())
    if found is None or found.group(1) != module:
        return False
    for part in found.group(2).split(","):
        words = part.split()
        if not words or words[0] in names:
            return False
    return True


class _RecordingResolver(Resolver):
    """A ``Resolver`` that tells which modules' facts it reads (every lookup goes through
    ``facts``)."""

    def __init__(self, index: SourceIndex, read: Callable[[str], None]) -> None:
        super().__init__(index)
        self._read = read

    def facts(self, module: str) -> ModuleFacts | None:
        self._read(module)
        return super().facts(module)


def _may_bind(name: str, symbol: Definition | Reference, names: set[str]) -> bool:
    """Whether ``name``'s binding can be one of ``names`` under another name or its own."""
    if name in names:
        return True
    if isinstance(symbol, Reference):
        if symbol.attribute is not None:
            return symbol.attribute in names
        if symbol.expression is not None:
            return symbol.expression.rpartition(".")[2] in names
    return False


def is_public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split("."))


def is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")


class HomeFinder:
    """Answers "where else can ``name`` be imported from" for names of forbidden modules.

    ``modules`` are every module whose exports may be offered (the root packages'
    modules), or a function that lists them (called when a search first needs them);
    ``canonical`` says whether a module is named canonical by a contract. Which modules
    offer an object is found per object, on first use (``homes_of``). What each answer
    was made from is recorded (``inputs``); ``known`` takes an answer kept from an
    earlier run.
    """

    def __init__(
        self,
        resolver: Resolver,
        modules: Iterable[str] | Callable[[], Iterable[str]],
        canonical: Callable[[str], bool] = lambda module: False,
        graph: ImportGraph | None = None,
    ) -> None:
        self.resolver: Resolver = _RecordingResolver(resolver.index, self._read)
        self.graph = graph
        self._modules = modules
        self._sorted: list[str] | None = None
        self.canonical = canonical
        self._homes: dict[tuple[str, str], list[Home]] = {}
        self._answers: dict[tuple[str, str], HomeAnswer] = {}
        self._inputs: dict[tuple[str, str], Inputs] = {}
        self._home_inputs: dict[tuple[str, str], Inputs] = {}
        self._recording: list[Inputs] = []
        self._searches: dict[tuple[str, str], Search] = {}
        self._priors: dict[tuple[str, str], Search] = {}
        self._changed: frozenset[str] = frozenset()
        self._outside: set[str] | None = None
        self._module_set: set[str] | None = None

    @property
    def modules(self) -> list[str]:
        if self._sorted is None:
            listed = self._modules() if callable(self._modules) else self._modules
            self._sorted = sorted(set(listed))
        return self._sorted

    # -- what the answers were made from ---------------------------------------------

    def _read(self, module: str) -> None:
        if self._recording:
            self._recording[-1].modules.add(module)

    def _uses(self, inputs: Inputs) -> None:
        if self._recording:
            self._recording[-1].add(inputs)

    @contextlib.contextmanager
    def _record(self, inputs: Inputs) -> Iterator[Inputs]:
        """Record into ``inputs`` what is read inside; the caller decides what of it the
        enclosing answer depends on (``_uses``)."""
        self._recording.append(inputs)
        try:
            yield inputs
        finally:
            self._recording.pop()

    def inputs(self, forbidden: str, name: str) -> Inputs | None:
        """What the answer for ``forbidden.name`` was made from (None before it is asked)."""
        return self._inputs.get((forbidden, name))

    def known(self, forbidden: str, name: str, answer: HomeAnswer, inputs: Inputs) -> None:
        """Take ``answer`` for ``forbidden.name`` without looking (made from ``inputs``,
        which have not changed since)."""
        self._answers[(forbidden, name)] = answer
        self._inputs[(forbidden, name)] = inputs

    def search(self, target: tuple[str, str]) -> Search | None:
        """The search for ``target``'s homes made (or taken as known) in this run."""
        return self._searches.get(target)

    def prior(self, target: tuple[str, str], search: Search) -> None:
        """A search for ``target`` made in an earlier run: while the names looked for stay
        among its names, only its matched modules and the changed ones are looked at."""
        self._priors[target] = search
        self._searches.setdefault(target, search)

    def changed(self, modules: Iterable[str]) -> None:
        """The modules whose files changed since the priors were made (or were added)."""
        self._changed = frozenset(modules)

    # -- which modules offer an object -----------------------------------------------

    def _facts(self, module: str) -> ModuleFacts | None:
        return self.resolver.facts(module)

    def _follow(self, module: str, name: str) -> tuple[tuple[str, str] | None, str | None]:
        """(defining module, defined name) of ``module.name``, or (None, why not)."""
        trail: list[tuple[str, str]] = []
        located = self.resolver.resolve(module, name, trail=trail)
        for step_module, step_name in trail:
            facts = self._facts(step_module)
            if facts is not None and step_name in facts.conditional:
                return None, (
                    f"{step_module} binds {step_name} conditionally (an if, or a try/except "
                    "ImportError fallback): which object it is cannot be proven"
                )
        if located is None:
            return None, None
        return (located.module, located.definition.name), None

    def homes_of(self, target: tuple[str, str]) -> list[Home]:
        """Every module that offers the object ``target`` (defining module, name).

        A module can bind the object only by writing one of the names it has anywhere
        (a definition, an import, an alias, an attribute) or through a star import, so
        only modules whose text holds one of those are parsed; a name found bound to it
        (``from x import Foo as Bar``) joins the names looked for, until none is new.
        On a package of 1,500 modules this parses tens of files, not all of them.
        """
        homes = self._homes.get(target)
        if homes is None:
            with self._record(Inputs(searches={target})) as inputs:
                homes = self._homes[target] = self._find_homes(target, inputs.names)
            self._home_inputs[target] = inputs
        self._uses(self._home_inputs[target])
        return homes

    def _find_homes(self, target: tuple[str, str], names: set[str]) -> list[Home]:
        prior = self._priors.get(target)
        if prior is not None:
            found = self._search(target, names, prior)
            if found is not None:
                return found
            names.clear()  # a module came to bind it that the prior search did not read
        found = self._search(target, names, None)
        assert found is not None
        return found

    def _search(
        self, target: tuple[str, str], names: set[str], prior: Search | None
    ) -> list[Home] | None:
        """The homes of ``target``; None when ``prior`` cannot tell which modules to read."""
        names.add(target[1])
        matched: list[str] = []
        found: dict[str, list[Home]] = {}
        binders: set[str] = set()
        complete = True
        while True:
            words = [n.encode() for n in sorted(names)]
            seen = set(matched)
            if prior is not None and names <= prior.names:
                fresh = self._matching_since(prior, words, seen)
                complete = complete and prior.complete
            elif self.graph is not None:
                fresh = self._near(target, binders, words, seen)
                complete = False
            else:
                index = self.resolver.index
                fresh = [m for m in self.modules if m not in seen and index.mentions(m, words)]
            matched += fresh
            before = (len(names), len(binders))
            # Every module matched so far, again: one looked at before a name was learnt
            # may bind the object under that name (``from pkg.impl import Alias``).
            for module in matched:
                with self._record(Inputs()) as read:
                    bound, homes = self._binds(module, target, names)
                if bound:
                    # What the search depends on: the modules that bind the object (and
                    # what they were followed through). One that binds nothing matters
                    # again only if its text comes to name the object, which the names
                    # recorded tell (``Inputs``).
                    self._uses(read)
                    binders.add(module)
                names |= bound
                if homes:
                    found[module] = homes
            if not fresh and (len(names), len(binders)) == before:
                break
        if prior is not None and not prior.complete and not binders <= prior.binders:
            return None
        self._searches[target] = Search(
            frozenset(names), frozenset(matched), frozenset(binders), complete
        )
        return [home for module in sorted(found) for home in found[module]]

    def _near(
        self, target: tuple[str, str], binders: set[str], words: list[bytes], seen: set[str]
    ) -> list[str]:
        """The modules to look at, by the import graph: the definer, the modules importing
        it or a module found to bind the object, and those the graph does not hold (a
        folder without ``__init__.py``); of those, the ones whose text names it.

        An importer whose every import of those modules is a one-line ``from m import
        a, b`` naming none of the object's names binds it through none of them: it is
        not read (until a name it imports is learnt).
        """
        graph = self.graph
        assert graph is not None
        if self._outside is None:
            held = set(graph.modules)
            self._outside = {m for m in self.modules if m not in held}
        names = {word.decode() for word in words}
        through: dict[str, list[str]] = {}
        for module in (target[0], *binders):
            for importer in graph.importers(module):
                through.setdefault(importer, []).append(module)
        pool = {target[0], *self._outside}
        for importer, imported in through.items():
            if importer in pool or importer in seen:
                continue
            if not all(self._binds_none(importer, m, names) for m in imported):
                pool.add(importer)
        listed = self._listed()
        index = self.resolver.index
        return [m for m in sorted(pool - seen) if m in listed and index.mentions(m, words)]

    def _binds_none(self, importer: str, imported: str, names: set[str]) -> bool:
        assert self.graph is not None
        lines = self.graph.lines(importer, imported)
        return bool(lines) and all(_binds_none_of(line, imported, names) for line in lines)

    def _listed(self) -> set[str]:
        if self._module_set is None:
            self._module_set = set(self.modules)
        return self._module_set

    def _matching_since(self, prior: Search, words: list[bytes], seen: set[str]) -> list[str]:
        """The modules to look at for ``words`` (all among ``prior``'s names): those the
        prior search matched, and the changed ones whose text holds one of them now.

        A module that did not change holds the words it held, so it is among the prior
        matches if it holds one; looking at a prior match that no longer holds them (or
        holds only a name not looked for yet) finds nothing it should not: a module is
        a home for what it binds, whoever asks.
        """
        index = self.resolver.index
        fresh = sorted(m for m in prior.matched if m not in seen)
        changed = [m for m in sorted(self._changed) if m not in seen and m not in prior.matched]
        named = [m for m in changed if index.mentions(m, words)]
        if named:
            listed = self._listed()  # only modules a full search would look at
            fresh += [m for m in named if m in listed]
        return fresh

    def _binds(
        self, module: str, target: tuple[str, str], names: set[str]
    ) -> tuple[set[str], list[Home]]:
        """The names ``module`` binds to ``target`` (any of them may be imported from it
        elsewhere), and those that make it a home. Only names that can lead to ``target``
        are followed: one of ``names`` itself, or an import or alias of one of them."""
        facts = self._facts(module)
        if facts is None:
            return set(), []
        candidates = {n for n, symbol in facts.symbols.items() if _may_bind(n, symbol, names)}
        for star in facts.star_imports:
            star_facts = self._facts(star)
            if star_facts is not None:
                candidates |= {n for n in names if star_exports(star_facts, n)}
        path = self.resolver.index.module_file(module)
        package = path is not None and path.name == "__init__.py"
        bound: set[str] = set()
        homes: list[Home] = []
        for name in sorted(candidates):
            if self._follow(module, name)[0] != target:
                continue
            bound.add(name)
            # A module that imports a name for its own use is no home for it: only
            # the definer, a canonical module, a package or an __all__ export is.
            exported = package or (facts.exports is not None and name in facts.exports)
            if exported or target[0] == module or self.canonical(module):
                homes.append(Home(module, name))
        return bound, homes

    # -- one name ----------------------------------------------------------------------

    def find(self, forbidden: str, name: str) -> HomeAnswer:
        """Every other module that exports what ``forbidden.name`` is, best first."""
        key = (forbidden, name)
        answer = self._answers.get(key)
        if answer is None:
            with self._record(Inputs()) as inputs:
                answer = self._answers[key] = self._find(forbidden, name)
            self._inputs[key] = inputs
        return answer

    def _find(self, forbidden: str, name: str) -> HomeAnswer:
        facts = self._facts(forbidden)
        if facts is None:
            return HomeAnswer(reason=f"{forbidden} cannot be read or does not parse")
        symbol = facts.symbols.get(name)
        if name in facts.conditional:
            return HomeAnswer(
                reason=f"{forbidden} binds {name} conditionally (an if, or a try/except "
                "ImportError fallback): which object it is cannot be proven"
            )
        if isinstance(symbol, Definition) or (
            symbol is None and any(code.name == name for code in facts.own_code)
        ):
            return HomeAnswer(
                reason=f"{forbidden} defines {name} itself: there is no other home to import it "
                "from (move the definition first)"
            )
        if isinstance(symbol, Reference) and symbol.module and symbol.attribute is None:
            return HomeAnswer(
                reason=f"{forbidden}.{name} is a module, not a class or function: "
                "import it by its own name"
            )
        self._read(f"{forbidden}.{name}")  # a submodule of that name, added later, is news
        if symbol is None and self.resolver.index.module_file(f"{forbidden}.{name}"):
            return HomeAnswer(
                reason=f"{forbidden}.{name} is a module of the legacy package: import it by "
                "its new name by hand"
            )
        target, why = self._follow(forbidden, name)
        if why is not None:
            return HomeAnswer(reason=why)
        if target is None:
            if symbol is None and any(d.name == "__getattr__" for d in facts.definitions):
                return HomeAnswer(
                    reason=f"{forbidden} provides {name} through its module __getattr__: "
                    "what it returns cannot be known statically"
                )
            return HomeAnswer(
                reason=f"{name} cannot be followed from {forbidden} to a class or function "
                "definition (a value, or a name bound at run time)"
            )
        defining, _ = target
        if defining == forbidden:
            return HomeAnswer(
                reason=f"{forbidden} defines {name} itself: there is no other home to import it "
                "from (move the definition first)",
                defined_in=defining,
            )
        homes = [
            home
            for home in self.homes_of(target)
            if home.module != forbidden and (not home.name.startswith("_") or home.name == name)
        ]
        homes.sort(key=lambda home: self._rank(home, name, defining))
        if not homes:
            return HomeAnswer(
                reason=f"no module other than {forbidden} exports {name}", defined_in=defining
            )
        return HomeAnswer(candidates=tuple(homes), defined_in=defining)

    def _rank(self, home: Home, name: str, defining: str) -> tuple[int, bool, int, str, str]:
        if self.canonical(home.module):
            rank = 0
        elif home.module == defining:
            rank = 2
        elif is_public(home.module):
            rank = 1
        else:
            rank = 3
        return (rank, home.name != name, home.module.count("."), home.module, home.name)


def usable_for(importer: str, home: Home) -> bool:
    """Whether ``importer`` may import from ``home`` at all: not itself, not its own package
    (an ``__init__`` that imports its submodules would make the import circular)."""
    return home.module != importer and not is_ancestor(home.module, importer)
