"""What a fix plan learnt, kept between runs: each edge's import statements and each name's homes.

Planning reads the importer of every edge (its statements) and follows every name it
imports to the modules that offer the same object (``HomeFinder``): on a large package,
seconds, while an edit usually touches none of what a given answer was made from. So
both are kept in the cache folder (``plans-<hash>.json``, one per set of contracts) with
what they were made from:

- an edge's statements (``EdgeRequest``): the importer's file;
- a name's homes (``HomeAnswer``): the modules whose facts were read (``Inputs.modules``,
  including modules looked for and not found), and the names the object was looked for
  under in the text of every module (``Inputs.names``);
- each search for an object's homes (``Search``): its names, and the modules whose text
  held one of them.

A run compares the stat line of every module's files (the result cache's, taken once
for the fingerprint) with those stored. An edge is planned again when its importer
changed; a name is followed again when one of its modules changed, or when a changed or
added file names one of its names or has a star import (it may offer the object now),
and its search for homes then reads only the modules it matched before and the changed
ones (unless it learns a new name). Everything else is taken as stored. The contracts'
verdicts on the candidate imports are not kept here: they are asked again (and stored
under the graph's identity, ``checks-<hash>.json``), so a change of the graph or of a
contract is seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_ssot
from pytest_ssot.contract_types._source_index import has_word
from pytest_ssot.fileio import FileError, write_atomic
from pytest_ssot.fixing.homes import Home, HomeAnswer, HomeFinder, Inputs, Search
from pytest_ssot.fixing.plan import Edge, EdgeRequest
from pytest_ssot.fixing.sites import ImportSite
from pytest_ssot.result_cache import SourceState, module_for, read_json_object

STORE_FORMAT = 1
RACY_NS = 1_000_000_000
"""A file changed less than this before the plan is stored may change again within the
same clock tick and keep its stat line: it is stored as changed (planned again next run)."""

_STAR_IMPORT = re.compile(rb"import\s*\*")


def module_stats(states: Iterable[SourceState]) -> dict[str, str]:
    """Each module of the root packages -> the stat lines of its files (a module can have
    two, ``x.py`` and ``x/__init__.py``, or live in several folders of a namespace package)."""
    files: dict[str, tuple[str, str]] = {}
    for state in states:
        for folder in state.folders:
            if folder.root is None:
                continue
            for rel, line in folder.files.items():
                module = module_for(folder.root, rel)
                if module is not None:
                    files[f"{folder.path}/{rel}"] = (module, line)
    by_module: dict[str, list[str]] = {}
    for path, (module, line) in sorted(files.items()):
        by_module.setdefault(module, []).append(f"{path}\0{line}")
    return {module: "\n".join(lines) for module, lines in by_module.items()}


def _racy(stat: str, now_ns: int) -> bool:
    """Whether a file's stat lines say it changed within ``RACY_NS`` of ``now_ns``."""
    for line in stat.split("\n"):
        parts = line.split("\0")
        if len(parts) < 4:
            return True
        mtime, ctime = parts[-3], parts[-2]
        if not (mtime.isdigit() and ctime.isdigit()):
            return True
        if max(int(mtime), int(ctime)) > now_ns - RACY_NS:
            return True
    return False


def _code_stamp() -> str:
    """The format, the Python and the code that makes the answers: another reads afresh."""
    here = Path(__file__).parent
    parts = [str(STORE_FORMAT), sys.version, pytest_ssot.__version__]
    for path in (
        *(here / f"{name}.py" for name in ("homes", "sites", "plan", "plan_store")),
        here.parent / "contract_types" / "_source_index.py",
    ):
        try:
            st = path.stat()
            parts.append(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{path.name}\0?")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def plan_key(rootdir: Path, roots: Sequence[str], roles: Sequence[Any]) -> str:
    """What every kept answer depends on besides source files: where the project is, its
    root packages, and which modules the contracts call canonical or legacy."""
    text = json.dumps([str(rootdir), sorted(roots), roles], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class KeptPlan:
    """The stored statements and answers that still stand in this run, the searches for
    homes made before, and the modules changed since."""

    requests: dict[Edge, EdgeRequest] = field(default_factory=dict)
    answers: dict[tuple[str, str], tuple[HomeAnswer, Inputs]] = field(default_factory=dict)
    searches: dict[tuple[str, str], Search] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def give(self, finder: HomeFinder) -> None:
        """Hand the answers that stand, the earlier searches and the changes to ``finder``."""
        finder.changed(self.changed)
        for target, search in self.searches.items():
            finder.prior(target, search)
        for (forbidden, name), (answer, inputs) in self.answers.items():
            finder.known(forbidden, name, answer, inputs)


class PlanStore:
    """Reads and writes ``plans-<hash>.json`` for one set of contracts.

    ``stats`` are the modules' stat lines now (``module_stats``); ``mentions(module,
    names)`` says whether a module's file names one of ``names`` or has a star import.
    """

    def __init__(
        self,
        path: Path,
        key: str,
        stats: Mapping[str, str],
        module_file: Callable[[str], Path | None],
    ) -> None:
        self.path = path
        self.key = key
        self.stats = stats
        self.module_file = module_file
        self._texts: dict[str, bytes | None] = {}

    def load(self) -> KeptPlan:
        data = read_json_object(self.path)
        if data is None or data.get("stamp") != _code_stamp() or data.get("key") != self.key:
            return KeptPlan()
        try:
            return self._kept(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return KeptPlan()

    def _kept(self, data: Mapping[str, Any]) -> KeptPlan:
        old = data["files"]
        if not isinstance(old, dict):
            return KeptPlan()
        kept = KeptPlan()
        kept.changed = {
            m for m in old.keys() | self.stats.keys() if old.get(m) != self.stats.get(m)
        }
        present = sorted(m for m in kept.changed if m in self.stats)
        for module, name, names, matched, binders, complete in data["searches"]:
            kept.searches[(str(module), str(name))] = Search(
                frozenset(map(str, names)),
                frozenset(map(str, matched)),
                frozenset(map(str, binders)),
                bool(complete),
            )
        for forbidden, name, answer, modules, names, searches in data["answers"]:
            inputs = Inputs(
                set(map(str, modules)),
                set(map(str, names)),
                {(str(module), str(object_name)) for module, object_name in searches},
            )
            if inputs.modules & kept.changed or self._named(present, inputs.names):
                continue
            kept.answers[(str(forbidden), str(name))] = (_answer_from(answer), inputs)
        for item in data["requests"]:
            request = _request_from(item)
            if request.importer not in kept.changed:
                kept.requests[(request.importer, request.forbidden)] = request
        return kept

    def _named(self, modules: Sequence[str], names: set[str]) -> bool:
        """Whether one of ``modules`` (changed or added) may bind an object under one of
        ``names``: its text names one, or it has a star import. True when unreadable."""
        if not names:
            return False
        words = [name.encode() for name in sorted(names)]
        for module in modules:
            data = self._text(module)
            if data is None:
                return True
            if b"import" in data and _STAR_IMPORT.search(data) is not None:
                return True
            if any(has_word(data, word) for word in words):
                return True
        return False

    def _text(self, module: str) -> bytes | None:
        if module not in self._texts:
            path = self.module_file(module)
            try:
                self._texts[module] = path.read_bytes() if path is not None else b""
            except OSError:
                self._texts[module] = None
        return self._texts[module]

    def save(self, requests: Iterable[EdgeRequest], finder: HomeFinder) -> None:
        """Keep this run's statements and the answers they asked for. Only the entries
        this run used are kept: the file does not grow with edges long fixed."""
        now = time.time_ns()
        files = {m: ("changed" if _racy(s, now) else s) for m, s in self.stats.items()}
        stored_requests = []
        answers: dict[tuple[str, str], Any] = {}
        searches: dict[tuple[str, str], Any] = {}
        for request in requests:
            stored_requests.append(_request_to(request))
            for site in request.sites:
                for name, _ in site.names:
                    key = (request.forbidden, name)
                    inputs = finder.inputs(*key)
                    if key in answers or inputs is None:
                        continue
                    answer = finder.find(*key)
                    answers[key] = [
                        *key,
                        _answer_to(answer),
                        sorted(inputs.modules),
                        sorted(inputs.names),
                        sorted(inputs.searches),
                    ]
                    for target in inputs.searches:
                        search = finder.search(target)
                        if search is not None:
                            searches[target] = [
                                *target,
                                sorted(search.names),
                                sorted(search.matched),
                                sorted(search.binders),
                                search.complete,
                            ]
        data = {
            "stamp": _code_stamp(),
            "key": self.key,
            "files": files,
            "searches": [searches[target] for target in sorted(searches)],
            "answers": list(answers.values()),
            "requests": stored_requests,
        }
        with contextlib.suppress(OSError, FileError):  # a read-only cache costs speed only
            write_atomic(self.path, json.dumps(data))


def _answer_to(answer: HomeAnswer) -> dict[str, Any]:
    return {
        "candidates": [[home.module, home.name] for home in answer.candidates],
        "reason": answer.reason,
        "defined_in": answer.defined_in,
    }


def _answer_from(data: Any) -> HomeAnswer:
    reason, defined_in = data["reason"], data["defined_in"]
    return HomeAnswer(
        candidates=tuple(Home(str(module), str(name)) for module, name in data["candidates"]),
        reason=None if reason is None else str(reason),
        defined_in=None if defined_in is None else str(defined_in),
    )


def _site_to(site: ImportSite) -> list[Any]:
    return [
        site.kind,
        site.line,
        site.level,
        site.top_level,
        [list(pair) for pair in site.names],
        site.local,
        site.problem,
        site.written,
    ]


def _site_from(data: Any) -> ImportSite:
    kind, line, level, top_level, names, local, problem, written = data
    return ImportSite(
        str(kind),
        int(line),
        int(level),
        bool(top_level),
        tuple((str(name), None if asname is None else str(asname)) for name, asname in names),
        None if local is None else str(local),
        None if problem is None else str(problem),
        str(written),
    )


def _request_to(request: EdgeRequest) -> list[Any]:
    return [
        request.importer,
        request.forbidden,
        None if request.path is None else str(request.path),
        request.display,
        request.is_package,
        [_site_to(site) for site in request.sites],
        request.reason,
    ]


def _request_from(data: Any) -> EdgeRequest:
    importer, forbidden, path, display, is_package, sites, reason = data
    return EdgeRequest(
        str(importer),
        str(forbidden),
        None if path is None else Path(path),
        None if display is None else str(display),
        bool(is_package),
        tuple(_site_from(site) for site in sites),
        None if reason is None else str(reason),
    )
