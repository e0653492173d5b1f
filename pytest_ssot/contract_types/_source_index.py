"""What the contract types read from source files, and the cache that makes reading cheap.

The import graph says who imports whom; the SSOT contracts also need what a
module *defines* (classes, functions), what its names are bound to (imports,
aliases) and whether it holds code of its own. That comes from the syntax tree.

File discovery is grimp's: the root packages are found with
``installed.package_folders`` (``find_spec``, so ``sys.path`` and ``sys.modules`` decide which copy
is read, as for the graph) and a module of the graph maps to ``<name>.py`` or
``<name>/__init__.py`` below its root package. Folders without an
``__init__.py``, which grimp skips, can be listed separately.

Parsed facts are cached per file and per process, keyed by the file's stat line
(size, modification and change times, inode), so several contracts in one run
read and parse each file at most once, and an edited file is read again. Between
runs, pytest-ssot stores them in its cache folder (``stored_data`` and
``load_stored``, same key), so that a run after one edit reads only that file.
A file that does not parse gives a ``ParseFailure`` instead of facts; it never raises.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from pytest_ssot.installed import PackageNotFound, package_folders

T = TypeVar("T")
StrPath = str | os.PathLike[str]
"""A file as the cache takes it: the cache keys files by their path as a string."""

# ---------------------------------------------------------------------------
# Facts


@dataclass(frozen=True)
class Definition:
    """A class or function defined at the top level of a module (also inside ``if``/``try``)."""

    name: str
    kind: str
    """``class`` or ``function``."""
    line: int
    bases: tuple[str, ...] = ()
    """A class's bases as written (dotted names; subscripts and calls reduced to their names)."""


@dataclass(frozen=True)
class Reference:
    """A name bound to something defined elsewhere: by an import, or by an alias ``X = y.Z``."""

    name: str
    line: int
    module: str | None = None
    """For imports: the module imported, or imported from."""
    attribute: str | None = None
    """For ``from module import attribute``; None when the module itself is bound."""
    expression: str | None = None
    """For aliases: the dotted expression assigned."""


Symbol = Definition | Reference


@dataclass(frozen=True)
class OwnCode:
    """A top-level statement that is more than importing and forwarding names."""

    name: str
    kind: str
    """``class``, ``function``, ``assignment`` or ``statement``."""
    line: int


@dataclass(frozen=True)
class ModuleFacts:
    """What one module's source says, read once and cached.

    Its top-level definitions, the final binding of each top-level name, star
    imports, the code that is more than forwarding names, and ``__all__``. Made by
    ``extract_facts``; ``SourceCache.facts`` parses each file once and keeps them.
    Read by the ``Resolver`` and the SSOT contract types.
    """

    module: str
    definitions: tuple[Definition, ...]
    symbols: Mapping[str, Symbol]
    """The final binding of each top-level name."""
    star_imports: tuple[str, ...]
    own_code: tuple[OwnCode, ...]
    conditional: frozenset[str] = frozenset()
    """Top-level names bound inside an ``if`` or ``try`` (a fallback import, a TYPE_CHECKING
    block): which binding wins is not known statically."""
    exports: tuple[str, ...] | None = None
    """``__all__`` when it is a literal list or tuple of strings, else None."""


@dataclass(frozen=True)
class ParseFailure:
    """Why a module's source could not be read or parsed, and the line (0 when none).

    Returned by ``SourceCache.facts`` in place of ``ModuleFacts``; the contract
    types report it as a finding instead of guessing.
    """

    message: str
    line: int


SHIM_FUNCTIONS = frozenset({"__getattr__", "__dir__"})
"""Functions a shim may define: module-level attribute forwarding (PEP 562)."""


def extract_facts(tree: ast.Module, module: str, is_package: bool, source: str) -> ModuleFacts:
    collector = _Collector(module, is_package, source)
    collector.visit_block(tree.body)
    return ModuleFacts(
        module=module,
        definitions=tuple(collector.definitions),
        symbols=dict(collector.symbols),
        star_imports=tuple(collector.star_imports),
        own_code=tuple(collector.own_code),
        conditional=frozenset(collector.conditional),
        exports=collector.exports,
    )


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):  # Generic[T], Base[int]
        return dotted_name(node.value)
    if isinstance(node, ast.Call):  # with_metaclass(Meta, Base): the function, not the base
        return None
    return dotted_name(node)


def _is_reference(node: ast.expr) -> bool:
    if isinstance(node, ast.Tuple | ast.List):
        return bool(node.elts) and all(_is_reference(e) for e in node.elts)
    return dotted_name(node) is not None


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple | ast.List):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


def _literal_names(node: ast.expr) -> tuple[str, ...] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if len(names) != len(node.elts) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(str(n) for n in names)


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


class _Collector:
    def __init__(self, module: str, is_package: bool, source: str) -> None:
        self.module = module
        self.is_package = is_package
        self.lines = source.splitlines()
        self.definitions: list[Definition] = []
        self._defined: set[str] = set()
        self.symbols: dict[str, Symbol] = {}
        self.star_imports: list[str] = []
        self.own_code: list[OwnCode] = []
        self.conditional: set[str] = set()
        self.exports: tuple[str, ...] | None = None
        self._depth = 0

    def visit_block(self, body: Sequence[ast.stmt]) -> None:
        for statement in body:
            self.visit(statement)

    def visit(self, node: ast.stmt) -> None:  # noqa: C901  one branch per kind of top-level statement (a visitor's dispatch)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._bind(Reference(alias.asname, node.lineno, module=alias.name))
                else:
                    head = alias.name.partition(".")[0]
                    self._bind(Reference(head, node.lineno, module=head))
        elif isinstance(node, ast.ImportFrom):
            base = self._resolve_from(node)
            for alias in node.names:
                if alias.name == "*":
                    if base:
                        self.star_imports.append(base)
                    continue
                self._bind(
                    Reference(
                        alias.asname or alias.name, node.lineno, module=base, attribute=alias.name
                    )
                )
        elif isinstance(node, ast.ClassDef):
            bases = tuple(b for b in (_base_name(e) for e in node.bases) if b)
            self._define(Definition(node.name, "class", node.lineno, bases))
            self.own_code.append(OwnCode(node.name, "class", node.lineno))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self._define(Definition(node.name, "function", node.lineno))
            if node.name not in SHIM_FUNCTIONS:
                self.own_code.append(OwnCode(node.name, "function", node.lineno))
        elif isinstance(node, ast.Assign):
            self._assignment(node, node.targets, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._assignment(node, [node.target], node.value)
        elif isinstance(node, ast.AugAssign):
            names = _target_names(node.target)
            if not (names and all(_is_dunder(n) for n in names)):
                self._own_statement(node, names)
        elif isinstance(node, ast.If):
            self._depth += 1
            self.visit_block(node.body)
            self.visit_block(node.orelse)
            self._depth -= 1
        elif isinstance(node, ast.Try | ast.TryStar):
            self._depth += 1
            self.visit_block(node.body)
            for handler in node.handlers:
                self.visit_block(handler.body)
            self.visit_block(node.orelse)
            self._depth -= 1
            self.visit_block(node.finalbody)
        elif isinstance(node, ast.With | ast.AsyncWith):
            self.visit_block(node.body)
        elif isinstance(node, ast.Expr):
            if not self._is_forwarding_expression(node.value):
                self._own_statement(node, [])
        elif not isinstance(node, ast.Pass | ast.Delete | ast.Global | ast.Nonlocal):
            self._own_statement(node, [])

    # -- helpers ------------------------------------------------------------------

    def _bind(self, reference: Reference) -> None:
        self.symbols[reference.name] = reference
        self._mark(reference.name)

    def _define(self, definition: Definition) -> None:
        if definition.name not in self._defined:  # the first definition of a name is kept
            self._defined.add(definition.name)
            self.definitions.append(definition)
        self.symbols[definition.name] = definition
        self._mark(definition.name)

    def _mark(self, name: str) -> None:
        if self._depth:
            self.conditional.add(name)

    def _resolve_from(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        parts = self.module.split(".")
        if not self.is_package:
            parts = parts[:-1]
        if node.level > 1:
            parts = parts[: len(parts) - (node.level - 1)]
        if not parts:
            return None  # beyond the top-level package
        if node.module:
            parts.append(node.module)
        return ".".join(parts)

    def _assignment(self, node: ast.stmt, targets: Sequence[ast.expr], value: ast.expr) -> None:
        names = [n for t in targets for n in _target_names(t)]
        if names == ["__all__"] and not self._depth:
            self.exports = _literal_names(value)
        if names and all(_is_dunder(n) for n in names):
            return  # __all__, __version__, __deprecated__ ...
        if _is_reference(value):
            expression = dotted_name(value)
            for target in targets:
                if isinstance(target, ast.Name) and expression is not None:
                    self._bind(Reference(target.id, node.lineno, expression=expression))
                else:
                    for name in _target_names(target):
                        self.symbols.pop(name, None)  # bound to something we do not follow
            return
        for name in names:
            self.symbols.pop(name, None)
            self._mark(name)
        self._own_statement(node, names)

    def _own_statement(self, node: ast.stmt, names: list[str]) -> None:
        if names:
            for name in names:
                self.own_code.append(OwnCode(name, "assignment", node.lineno))
            return
        text = self.lines[node.lineno - 1].strip() if node.lineno <= len(self.lines) else ""
        if len(text) > 60:
            text = text[:57] + "..."
        self.own_code.append(OwnCode(f"<{text or type(node).__name__}>", "statement", node.lineno))

    def _is_forwarding_expression(self, value: ast.expr) -> bool:
        if isinstance(value, ast.Constant):
            return isinstance(value.value, str) or value.value is Ellipsis
        if not isinstance(value, ast.Call):
            return False
        function = value.func
        if isinstance(function, ast.Attribute) and dotted_name(function.value) == "__all__":
            return True  # __all__.extend([...])
        return self._is_warn(function)

    def _is_warn(self, function: ast.expr) -> bool:
        """``warnings.warn`` however it was imported: a deprecation warning is forwarding too."""
        if isinstance(function, ast.Attribute) and function.attr == "warn":
            owner = dotted_name(function.value)
            symbol = self.symbols.get(owner or "")
            return (
                isinstance(symbol, Reference)
                and symbol.module == "warnings"
                and symbol.attribute is None
            )
        if isinstance(function, ast.Name):
            symbol = self.symbols.get(function.id)
            return (
                isinstance(symbol, Reference)
                and symbol.module == "warnings"
                and symbol.attribute == "warn"
            )
        return False


# ---------------------------------------------------------------------------
# Finding definitions without parsing


class NameQuery(Protocol):
    """A name pattern as the cache needs it (``_matching.NamePattern``)."""

    text: str

    @property
    def is_exact(self) -> bool: ...

    @property
    def literal(self) -> str: ...

    def matches(self, name: str) -> bool: ...


_WORD = frozenset(b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_AFTER_KEYWORD = rb"[ \t\n\r\x0b\x0c\\]+([^ \t\n\r\x0b\x0c(:\[\\]*)"
_KEYWORD_NAME = {
    word: re.compile(re.escape(word.encode()) + _AFTER_KEYWORD) for word in ("class", "def")
}


def defined_names(data: bytes, keyword: str) -> frozenset[str]:
    """Every name written after ``keyword`` (``class`` or ``def``) anywhere in ``data``.

    A superset of what the regex ``\\bclass[\\s\\\\]+NAME`` finds, without parsing
    and in one pass: the keyword is a literal prefix, which Python's ``re`` skips to
    quickly (the names of every file of 60 MB in a tenth of a second). The word boundary
    before the keyword is not checked (``subclass X`` gives ``X`` too): it may find more
    than the parser, which has the last word, never less in code that parses.
    """
    return frozenset(name.decode("utf-8", errors="replace") for name in _raw_names(data, keyword))


def _raw_names(data: bytes, keyword: str) -> frozenset[bytes]:
    """``defined_names`` as bytes: what the cache keeps (decoding every name of every file
    costs as much as finding them)."""
    return frozenset(_KEYWORD_NAME[keyword].findall(data))


def _facts_key(module: str, is_package: bool) -> str:
    """Where a file's facts are kept in its entry (one file may be read as two modules)."""
    return f"{module}\0{int(is_package)}"


_STAR_IMPORT = re.compile(rb"import\s*\*")


def has_word(data: bytes, word: bytes) -> bool:
    """Whether ``word`` stands in ``data`` with no identifier character on either side."""
    start = data.find(word)
    while start != -1:
        end = start + len(word)
        before = data[start - 1 : start] if start else b""
        after = data[end : end + 1]
        if not (before.isalnum() or before == b"_" or after.isalnum() or after == b"_"):
            return True
        start = data.find(word, start + 1)
    return False


@dataclass(frozen=True)
class DefinitionQuestion:
    """Which names, after which keywords: made once per check (``definition_question``)."""

    key: str
    keywords: tuple[str, ...]
    exact: frozenset[bytes]
    """The names without wildcards, encoded (as ``_raw_names`` gives them)."""
    patterns: tuple[NameQuery, ...]
    literals: tuple[bytes, ...] | None
    """When there are few names and each has a literal part: a file holding none of
    these is answered without looking for definitions (a substring search each)."""


FEW_NAMES = 4
"""Up to this many names, a substring search per name is cheaper than finding every
definition of the file; past it, one pass for the definitions is."""


# ---------------------------------------------------------------------------
# The cache, per process and between runs


def stat_line(st: os.stat_result) -> str:
    """How a file is known between runs: size, modification and change times, inode.

    The same line the result cache keeps for every source file.
    """
    return f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"


STORE_FORMAT = 2
_RECORD = json.JSONEncoder(separators=(",", ":"))
"""Encodes one file's record (one encoder: ``json.dumps`` with options makes one per call)."""
RACY_NS = 1_000_000_000
"""A file changed less than this before the facts are stored may change again within the
same clock tick, keeping its stat line: its facts are not stored (git's "racy" entries)."""


@dataclass
class _Entry:
    stamp: str
    facts: dict[str, ModuleFacts | ParseFailure] = field(default_factory=dict)
    text_matches: dict[str, bool] = field(default_factory=dict)
    """Answers per question (a regex, or names after keywords), stored between runs."""
    defined: dict[str, frozenset[bytes]] = field(default_factory=dict)
    """Per keyword (``class``, ``def``): the names written after it (``_raw_names``)."""
    data: bytes | None = None
    """The file's bytes, read once and shared by every contract of the run."""
    derived: dict[str, object] = field(default_factory=dict)
    stored_facts: dict[str, Any] = field(default_factory=dict)
    """Facts from the store, decoded on first use."""
    stored_text: str | None = None
    """The file's record as read from the store or last encoded for it, while nothing was
    learnt since: written back as it is, not encoded again."""


class _Run:
    """What holds while the contracts of one run read the files (``SourceCache.one_run``)."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry | None] = {}
        """Each file's entry as its one ``stat`` of the run found it (None: it could not)."""
        self.maps: dict[tuple[tuple[str, tuple[Path, ...]], ...], FileMap] = {}
        """One module-to-file map per set of root package folders."""


class SourceCache:
    """Facts per file, valid while the file's stat line stays the same."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._run: _Run | None = None
        self._stored: dict[str, Any] = {}
        self.changed = False
        """Whether anything was read since ``load_stored``: ``stored_data`` has news."""
        self.parses = 0
        """How many files were parsed (for tests and verbose output)."""
        self.reads = 0
        """How many files were read."""
        self.looks = 0
        """How many times a file was looked at (``stat``): once per file in ``one_run``."""

    # -- one run ----------------------------------------------------------------------

    @contextlib.contextmanager
    def one_run(self) -> Iterator[None]:
        """The contracts of one run read the files within: each file is looked at (``stat``)
        once, and every ``SourceIndex`` of the same root folders shares one module-to-file
        map. Only for code that changes no file within (pytest-ssot's contract phase);
        outside, each call looks at the file again and each index maps on its own.
        Nested calls share the outermost run.
        """
        if self._run is not None:
            yield
            return
        self._run = _Run()
        try:
            yield
        finally:
            self._run = None

    def file_map(self, package_dirs: Mapping[str, tuple[Path, ...]]) -> FileMap | None:
        """The run's module-to-file map for these root folders; None outside ``one_run``."""
        run = self._run
        if run is None:
            return None
        key = tuple(sorted(package_dirs.items()))
        found = run.maps.get(key)
        if found is None:
            found = run.maps[key] = FileMap(package_dirs)
        return found

    @property
    def in_run(self) -> object | None:
        """The current run (an identity only), or None outside ``one_run``."""
        return self._run

    # -- between runs ---------------------------------------------------------------

    def load_stored(self, data: Mapping[str, Any] | None) -> None:
        """Use what ``stored_data`` returned in an earlier run, for files whose stat line
        is still the one stored. Anything of another format or Python is ignored."""
        files = data.get("files") if data and data.get("stamp") == _store_stamp() else None
        self._stored = dict(files) if isinstance(files, dict) else {}
        self.changed = False

    def stored_data(self) -> dict[str, Any]:
        """What to store: the stored records, updated with this process's entries.

        Each file's record is ``[stat line, text]``, the text being the JSON of its answers
        and facts: reading the store back decodes only the records of the files a run
        looks at (and whose stat line still matches), and a record nothing was added to
        is written back as it was read.
        """
        files = dict(self._stored)
        racy = time.time_ns() - RACY_NS
        for path, entry in self._entries.items():
            _, mtime, ctime, _ = [*entry.stamp.split("\0"), "", "", "", ""][:4]
            if not (mtime.isdigit() and ctime.isdigit()) or max(int(mtime), int(ctime)) > racy:
                files.pop(path, None)
                continue
            text = entry.stored_text
            if text is None:
                # Facts read back from the store are kept as stored, not encoded again.
                facts = dict(entry.stored_facts)
                facts.update(
                    {
                        key: _facts_to_json(value)
                        for key, value in entry.facts.items()
                        if key not in entry.stored_facts
                    }
                )
                record = {"answers": entry.text_matches, "facts": facts}
                # Kept: written again as it is until something new is learnt about the file.
                text = entry.stored_text = _RECORD.encode(record)
            files[path] = [entry.stamp, text]
        return {"stamp": _store_stamp(), "files": files}

    # -- one file -------------------------------------------------------------------

    def _entry(self, file: StrPath) -> _Entry | None:
        path = os.fspath(file)
        run = self._run
        if run is not None:
            try:
                return run.entries[path]
            except KeyError:
                pass
        self.looks += 1
        try:
            stamp = stat_line(os.stat(path))  # noqa: PTH116 (hot: once per file)
        except OSError:
            self._entries.pop(path, None)
            if run is not None:
                run.entries[path] = None
            return None
        entry = self._entries.get(path)
        if entry is None or entry.stamp != stamp:
            entry = _Entry(stamp)
            stored = self._stored.get(path)
            if isinstance(stored, list) and len(stored) == 2 and stored[0] == stamp:
                _read_back(entry, stored[1])
            self._entries[path] = entry
        if run is not None:
            run.entries[path] = entry
        return entry

    def facts(self, path: StrPath, module: str, is_package: bool) -> ModuleFacts | ParseFailure:
        entry = self._entry(path)
        if entry is None:
            return ParseFailure(f"cannot read {path}", 0)
        key = _facts_key(module, is_package)
        cached = entry.facts.get(key)
        if cached is None:
            stored = entry.stored_facts.get(key)
            cached = _facts_from_json(stored) if stored is not None else None
            if cached is None:
                entry.stored_facts.pop(key, None)  # unreadable: replaced by what is parsed
                cached = self._parse(path, entry, module, is_package)
                self._learnt(entry)
            entry.facts[key] = cached
        return cached

    def text_matches(
        self, path: StrPath, regex: re.Pattern[str], literals: Sequence[str] = ()
    ) -> bool:
        """Whether the file's text contains ``regex``; True when it cannot be read.

        ``literals``, when given, are strings of which every match of ``regex``
        contains one: a file holding none of them is skipped with a plain substring
        search, which is much faster than the regex.
        """
        entry = self._entry(path)
        if entry is None:
            return True
        found = entry.text_matches.get(regex.pattern)
        if found is None:
            data = self._data(path, entry)
            if data is None:
                return True
            if literals and not any(lit.encode() in data for lit in literals):
                found = False
            else:
                found = regex.search(data.decode("utf-8", errors="replace")) is not None
            entry.text_matches[regex.pattern] = found
            self._learnt(entry)
        return found

    def mentions(
        self, path: StrPath, module: str, is_package: bool, words: Sequence[bytes]
    ) -> bool:
        """Whether the file's text holds one of ``words`` as a whole word, or a star
        import. True when the file cannot be read, and True without reading when its
        facts are known already (they cost nothing)."""
        entry = self._entry(path)
        if entry is None:
            return True
        key = _facts_key(module, is_package)
        if key in entry.facts or key in entry.stored_facts:
            return True
        data = self._data(path, entry)
        if data is None:
            return True
        if b"import" in data and _STAR_IMPORT.search(data) is not None:
            return True
        return any(has_word(data, word) for word in words)

    def may_define(self, path: StrPath, question: DefinitionQuestion) -> bool:
        """Whether the file may define a class or function (per the question's keywords)
        matching one of its names: False only when it certainly does not. True when it
        cannot be read.

        Without parsing: from the names written after each keyword (``defined_names``),
        found once per file and shared by every question of the run.
        """
        entry = self._entry(path)
        if entry is None:
            return True
        found = entry.text_matches.get(question.key)
        if found is None:
            data = self._data(path, entry)
            if data is None:
                return True
            found = self._defines(entry, data, question)
            entry.text_matches[question.key] = found
            self._learnt(entry)
        return found

    @staticmethod
    def _defines(entry: _Entry, data: bytes, question: DefinitionQuestion) -> bool:
        if question.literals is not None and not any(lit in data for lit in question.literals):
            return False
        for keyword in question.keywords:
            defined = entry.defined.get(keyword)
            if defined is None:
                defined = entry.defined[keyword] = _raw_names(data, keyword)
            if not question.exact.isdisjoint(defined):
                return True
            if question.patterns:
                names = [name.decode("utf-8", errors="replace") for name in defined]
                if any(any(map(p.matches, names)) for p in question.patterns):
                    return True
        return False

    def _learnt(self, entry: _Entry) -> None:
        """Something new about the file: the store has news, and its record is written anew."""
        entry.stored_text = None
        self.changed = True

    def derived(self, path: Path, key: str, compute: Callable[[Path], T]) -> T:
        """``compute(path)``, once per file version: other readers' facts (see dynamic_imports)."""
        entry = self._entry(path)
        if entry is None:
            return compute(path)
        if key not in entry.derived:
            entry.derived[key] = compute(path)
        return cast(T, entry.derived[key])

    def _data(self, path: StrPath, entry: _Entry) -> bytes | None:
        if entry.data is None:
            try:
                entry.data = _read(path)
            except OSError:
                return None
            self.reads += 1
        return entry.data

    def _parse(
        self, path: StrPath, entry: _Entry, module: str, is_package: bool
    ) -> ModuleFacts | ParseFailure:
        self.parses += 1
        data = entry.data
        if data is None:
            try:
                data = _read(path)
            except OSError as exc:
                return ParseFailure(f"cannot be read: {exc.strerror or exc}", 0)
            self.reads += 1
        try:
            # Warnings (invalid escape sequences...) are not ours to raise, and under
            # a "filterwarnings = error" test run they would turn into SyntaxErrors.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(data, filename=str(path))
        except SyntaxError as exc:
            return ParseFailure(f"{type(exc).__name__}: {exc.msg}", exc.lineno or 0)
        except (ValueError, RecursionError, MemoryError) as exc:
            return ParseFailure(f"{type(exc).__name__}: {exc}", 0)
        source = importlib.util.decode_source(data)
        return extract_facts(tree, module, is_package, source)


def _read_back(entry: _Entry, text: object) -> None:
    """The answers and facts of a stored record (``SourceCache.stored_data``); a record
    that cannot be read back is left out (the file is read again)."""
    if not isinstance(text, str):
        return
    try:
        record = json.loads(text)
    except ValueError:
        return
    answers = record.get("answers") if isinstance(record, dict) else None
    facts = record.get("facts") if isinstance(record, dict) else None
    if isinstance(answers, dict) and isinstance(facts, dict):
        entry.text_matches = {str(k): bool(v) for k, v in answers.items()}
        entry.stored_facts = facts
        entry.stored_text = text


def _read(path: StrPath) -> bytes:
    with open(path, "rb") as file:  # noqa: PTH123 (hot: pathlib's read_bytes costs more)
        return file.read()


def definition_question(
    names: Sequence[NameQuery], keywords: Sequence[str] = ("class", "def")
) -> DefinitionQuestion:
    """The question "may this file define one of ``names``" for ``SourceCache.may_define``."""
    literals = [name.literal.encode() for name in names]
    return DefinitionQuestion(
        # A digest: the key is stored once per file between runs, and a contract can name
        # dozens of classes.
        key=hashlib.blake2b(
            f"{'|'.join(keywords)}:{','.join(n.text for n in names)}".encode(), digest_size=8
        ).hexdigest(),
        keywords=tuple(keywords),
        exact=frozenset(n.text.encode() for n in names if n.is_exact),
        patterns=tuple(n for n in names if not n.is_exact),
        literals=tuple(literals) if len(names) <= FEW_NAMES and all(literals) else None,
    )


def _store_stamp() -> str:
    """The store's validity: its format, the Python that parsed, this module's version."""
    try:
        st = Path(__file__).stat()
        code = f"{st.st_size}\0{st.st_mtime_ns}"
    except OSError:
        code = "?"
    return f"{STORE_FORMAT}\0{sys.version}\0{code}"


def _facts_to_json(facts: ModuleFacts | ParseFailure) -> Any:
    if isinstance(facts, ParseFailure):
        return {"failure": [facts.message, facts.line]}
    return {
        "module": facts.module,
        "definitions": [_symbol_to_json(d) for d in facts.definitions],
        "symbols": {name: _symbol_to_json(symbol) for name, symbol in facts.symbols.items()},
        "star": list(facts.star_imports),
        "own": [[c.name, c.kind, c.line] for c in facts.own_code],
        "conditional": sorted(facts.conditional),
        "exports": None if facts.exports is None else list(facts.exports),
    }


def _symbol_to_json(symbol: Symbol) -> list[Any]:
    if isinstance(symbol, Definition):
        return ["d", symbol.name, symbol.kind, symbol.line, list(symbol.bases)]
    return ["r", symbol.name, symbol.line, symbol.module, symbol.attribute, symbol.expression]


def _symbol_from_json(data: list[Any]) -> Symbol:
    if data[0] == "d":
        return Definition(str(data[1]), str(data[2]), int(data[3]), tuple(map(str, data[4])))
    return Reference(str(data[1]), int(data[2]), data[3], data[4], data[5])


def _facts_from_json(data: Any) -> ModuleFacts | ParseFailure | None:
    """Facts as ``_facts_to_json`` stored them; None when they cannot be read back."""
    try:
        if "failure" in data:
            message, line = data["failure"]
            return ParseFailure(str(message), int(line))
        exports = data["exports"]
        definitions = [_symbol_from_json(d) for d in data["definitions"]]
        return ModuleFacts(
            module=str(data["module"]),
            definitions=tuple(d for d in definitions if isinstance(d, Definition)),
            symbols={str(k): _symbol_from_json(v) for k, v in data["symbols"].items()},
            star_imports=tuple(map(str, data["star"])),
            own_code=tuple(OwnCode(str(n), str(k), int(line)) for n, k, line in data["own"]),
            conditional=frozenset(map(str, data["conditional"])),
            exports=None if exports is None else tuple(map(str, exports)),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


CACHE = SourceCache()
"""Shared by every contract in the process (one pytest run, one lint-imports run)."""


# ---------------------------------------------------------------------------
# Discovery


_FILE = 1
_DIR = 2


class FileMap:
    """Module name -> file, below the root packages' folders, as grimp finds them.

    ``<name>/__init__.py`` first, then ``<name>.py``, in each of the root package's
    folders; read from one listing per folder (following symbolic links) rather than
    two ``stat`` calls per module, and memoised: files are taken to stay put while it
    lives (one check, or one run: ``SourceCache.file_map``).
    """

    def __init__(self, package_dirs: Mapping[str, tuple[Path, ...]]) -> None:
        self.package_dirs = {root: tuple(map(str, bases)) for root, bases in package_dirs.items()}
        self._files: dict[str, str | None] = {}
        self._paths: dict[str, Path | None] = {}
        self._listings: dict[str, dict[str, int]] = {}

    def module_file(self, module: str) -> Path | None:
        try:
            return self._paths[module]
        except KeyError:
            pass
        found = self.module_path(module)
        path = self._paths[module] = None if found is None else Path(found)
        return path

    def module_path(self, module: str) -> str | None:
        """``module_file`` as a string: no ``Path`` object for each of thousands of modules
        of which a contract reads a few."""
        try:
            return self._files[module]
        except KeyError:
            pass
        found: str | None = None
        root, _, rest = module.partition(".")
        parts = rest.split(".") if rest else []
        for base in self.package_dirs.get(root, ()):
            folder = "/".join((base, *parts[:-1]))
            if not parts:
                found = self._child(folder, "__init__.py", _FILE)
            else:
                last = parts[-1]
                if self._child(folder, last, _DIR) is not None:
                    found = self._child(f"{folder}/{last}", "__init__.py", _FILE)
                if found is None:
                    found = self._child(folder, last + ".py", _FILE)
            if found is not None:
                break
        self._files[module] = found
        return found

    def _child(self, folder: str, name: str, kind: int) -> str | None:
        """``folder/name`` if it is a file (or folder, per ``kind``), from one listing of
        ``folder`` (symbolic links followed); memoised."""
        entries = self._listings.get(folder)
        if entries is None:
            entries = self._listings[folder] = {}
            try:
                with os.scandir(folder) as scan:
                    for entry in scan:
                        try:
                            if entry.is_file():
                                entries[entry.name] = _FILE
                            elif entry.is_dir():
                                entries[entry.name] = _DIR
                        except OSError:
                            continue
            except OSError:
                pass
        return f"{folder}/{name}" if entries.get(name) == kind else None


class SourceIndex:
    """Maps the modules of the root packages to their files, and reads them through the cache."""

    def __init__(self, root_packages: Sequence[str], cache: SourceCache = CACHE) -> None:
        self.root_packages = tuple(root_packages)
        self.cache = cache
        self._package_dirs: dict[str, tuple[Path, ...]] | None = None
        self._map: FileMap | None = None
        self._shared: tuple[object, FileMap] | None = None
        self.locate()

    def locate(self) -> bool:
        """Find the root packages' folders now, as grimp does; False if one cannot be found.

        Called when the contract is created (lint-imports and pytest-ssot have the
        project folder on ``sys.path`` then) and again at check time if that failed.
        """
        if self._package_dirs is not None:
            return True
        found: dict[str, tuple[Path, ...]] = {}
        for name in self.root_packages:
            try:
                found[name] = tuple(Path(p) for p in package_folders(name))
            except PackageNotFound:
                return False
        self._package_dirs = found
        return True

    @property
    def package_dirs(self) -> Mapping[str, tuple[Path, ...]]:
        if not self.locate():
            missing = ", ".join(self.root_packages)
            raise ValueError(
                f"cannot find the source folders of the root packages ({missing}) on sys.path"
            )
        assert self._package_dirs is not None
        return self._package_dirs

    def is_internal(self, module: str) -> bool:
        return module.partition(".")[0] in self.root_packages

    def module_file(self, module: str) -> Path | None:
        """The file of ``module`` (see ``FileMap``)."""
        return self._files().module_file(module)

    def module_path(self, module: str) -> str | None:
        """The file of ``module`` as a string (see ``FileMap.module_path``)."""
        return self._files().module_path(module)

    def _files(self) -> FileMap:
        """The map every index of the run shares (``SourceCache.one_run``), else this
        index's own, which lives for one check."""
        run = self.cache.in_run
        if run is not None:
            if self._shared is None or self._shared[0] is not run:
                shared = self.cache.file_map(self.package_dirs)
                assert shared is not None
                self._shared = (run, shared)
            return self._shared[1]
        if self._map is None:
            self._map = FileMap(self.package_dirs)
        return self._map

    def unpackaged_modules(self, known: set[str]) -> dict[str, Path]:
        """Files below the root packages that grimp skips (folders without ``__init__.py``).

        Named as Python would import them (namespace packages). ``known`` are the
        graph's modules, which are left out.
        """
        return {
            module: Path(path)
            for module, path in self.python_modules().items()
            if module not in known
        }

    def python_modules(self) -> dict[str, str]:
        """Every module below the root packages, by name, with its file (a string):
        packages and the folders without ``__init__.py`` alike, the first folder of a
        root package winning, as for imports."""
        found: dict[str, str] = {}
        for root, bases in self.package_dirs.items():
            for base in bases:
                for module, path in _python_modules(root, str(base)):
                    found.setdefault(module, path)
        return found

    def facts(self, module: str, path: Path | None = None) -> ModuleFacts | ParseFailure | None:
        path = path or self.module_file(module)
        if path is None:
            return None
        return self.cache.facts(path, module, path.name == "__init__.py")

    def text_matches(
        self,
        module: str,
        regex: re.Pattern[str],
        path: Path | None = None,
        literals: Sequence[str] = (),
    ) -> bool:
        path = path or self.module_file(module)
        return path is not None and self.cache.text_matches(path, regex, literals)

    def mentions(self, module: str, words: Sequence[bytes]) -> bool:
        """Whether the module's file may bind one of ``words`` (see SourceCache.mentions)."""
        path = self.module_path(module)
        if path is None:
            return False
        is_package = os.path.basename(path) == "__init__.py"  # noqa: PTH119 (a str, hot)
        return self.cache.mentions(path, module, is_package, words)

    def may_define(
        self, module: str, question: DefinitionQuestion, path: Path | None = None
    ) -> bool:
        """Whether the module's file may define one of the question's names."""
        where = path if path is not None else self.module_path(module)
        return where is not None and self.cache.may_define(where, question)


def _python_modules(prefix: str, folder: str) -> Iterator[tuple[str, str]]:
    """(module, file) for every importable ``.py`` file below ``folder``, sorted by folder;
    strings only (10,000 files: tens of milliseconds, not hundreds with paths)."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir():
                # As os.walk without followlinks: a linked folder is not entered.
                if not (name.startswith(".") or name == "__pycache__" or entry.is_symlink()):
                    folders.append(entry)
                continue
        except OSError:
            pass
        if name.endswith(".py") and name.isascii() and name[:-3].isidentifier():
            stem = name[:-3]
            yield (prefix if stem == "__init__" else f"{prefix}.{stem}"), entry.path
    for entry in folders:
        yield from _python_modules(f"{prefix}.{entry.name}", entry.path)


# ---------------------------------------------------------------------------
# Following names to their definitions


@dataclass(frozen=True)
class Located:
    """A definition found by following a name: the module that defines it, and the definition.

    Made by ``Resolver.resolve`` (and by the single-source contract type's own
    lookup); the SSOT contract types compare ``qualname`` with the home they expect.
    """

    module: str
    definition: Definition

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.definition.name}"


class Resolver:
    """Follows imports, aliases and star imports from a name to the class or function behind it.

    Goes by modules and bindings, never by the name alone: ``import x as y`` is
    followed to ``x``. Failures to parse are recorded in ``failures``.
    """

    MAX_DEPTH = 50

    def __init__(self, index: SourceIndex) -> None:
        self.index = index
        self.failures: dict[str, ParseFailure] = {}
        self._facts: dict[str, ModuleFacts | None] = {}

    def facts(self, module: str) -> ModuleFacts | None:
        """The module's facts (memoised for the resolver's life: one check)."""
        try:
            return self._facts[module]
        except KeyError:
            pass
        facts = self.index.facts(module)
        if isinstance(facts, ParseFailure):
            self.failures[module] = facts
            facts = None
        self._facts[module] = facts
        return facts

    def resolve(
        self,
        module: str,
        name: str,
        _depth: int = 0,
        trail: list[tuple[str, str]] | None = None,
    ) -> Located | None:
        """The class or function ``module.name`` is bound to, or None.

        ``trail``, when given, receives every (module, name) the binding passes
        through, the last being the definition (for callers that must know each step).
        """
        if _depth > self.MAX_DEPTH:
            return None
        facts = self.facts(module)
        if facts is None:
            return None
        if trail is not None:
            trail.append((module, name))
        symbol = facts.symbols.get(name)
        if isinstance(symbol, Definition):
            return Located(module, symbol)
        if isinstance(symbol, Reference):
            if symbol.expression is not None:
                return self.resolve_expression(module, symbol.expression, _depth + 1, trail)
            if symbol.module is not None and symbol.attribute is not None:
                return self.resolve(symbol.module, symbol.attribute, _depth + 1, trail)
            return None  # a module
        for star in facts.star_imports:
            star_facts = self.facts(star)
            if star_facts is not None and not star_exports(star_facts, name):
                continue
            found = self.resolve(star, name, _depth + 1, trail)
            if found is not None:
                return found
        return None

    def resolve_expression(
        self,
        module: str,
        expression: str,
        _depth: int = 0,
        trail: list[tuple[str, str]] | None = None,
    ) -> Located | None:
        """What a dotted expression used in ``module`` (a base class, an alias) refers to."""
        head, *rest = expression.split(".")
        if not rest:
            return self.resolve(module, head, _depth, trail)
        facts = self.facts(module)
        if facts is None:
            return None
        symbol = facts.symbols.get(head)
        if not isinstance(symbol, Reference) or symbol.module is None:
            return None
        target = (
            symbol.module if symbol.attribute is None else f"{symbol.module}.{symbol.attribute}"
        )
        for part in rest[:-1]:
            target = f"{target}.{part}"
        if trail is not None:
            trail.append((module, head))
        return self.resolve(target, rest[-1], _depth + 1, trail)

    def is_subclass(
        self, candidate: Located, target: Located, _seen: frozenset[str] = frozenset()
    ) -> bool:
        if candidate.qualname in _seen:
            return False
        seen = _seen | {candidate.qualname}
        for base in candidate.definition.bases:
            found = self.resolve_expression(candidate.module, base)
            if found is None:
                continue
            if found == target or self.is_subclass(found, target, seen):
                return True
        return False


def star_exports(facts: ModuleFacts, name: str) -> bool:
    """Whether ``from <module> import *`` binds ``name``: ``__all__``, else its public names."""
    if facts.exports is not None:
        return name in facts.exports
    return not name.startswith("_")
