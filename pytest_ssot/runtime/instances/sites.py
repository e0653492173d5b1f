"""Where instances are created: creation-site frames, how files are shown, which are ours."""

from __future__ import annotations

import linecache
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import CodeType

MAX_FRAMES = 4
"""Frames kept per construction (code object and instruction offset, nothing else)."""
SHOWN_FRAMES = 4
"""Project frames shown per creation site."""
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent.parent) + os.sep
"""pytest_ssot's own folder: never project code."""


@dataclass(frozen=True)
class Site:
    """One frame of a creation stack."""

    file: str
    """As shown: relative to the rootdir when inside it."""
    line: int
    function: str
    path: str
    """The absolute file name."""

    def render(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"

    def source(self) -> str:
        return linecache.getline(self.path, self.line).strip()


def line_of(code: CodeType, lasti: int) -> int:
    if lasti >= 0:
        for start, end, line in code.co_lines():
            if start <= lasti < end and line is not None:
                return line
    return code.co_firstlineno


class Paths:
    """How files are shown and which of them are project code or test code."""

    def __init__(self, rootdir: Path, test_patterns: Sequence[str] = ("test_*.py", "*_test.py")):
        self.rootdir = str(rootdir.resolve()) + os.sep
        self.test_patterns = tuple(test_patterns)
        self._project: dict[str, bool] = {}
        self._tests: dict[str, bool] = {}

    def display(self, filename: str) -> str:
        absolute = os.path.abspath(filename)  # noqa: PTH100 (no symlink resolution: fast)
        if absolute.startswith(self.rootdir):
            return absolute[len(self.rootdir) :].replace(os.sep, "/")
        return filename

    def is_project(self, filename: str) -> bool:
        known = self._project.get(filename)
        if known is None:
            absolute = os.path.abspath(filename)  # noqa: PTH100
            known = (
                absolute.startswith(self.rootdir)
                and not absolute.startswith(PACKAGE_DIR)
                and "site-packages" not in absolute
                and "dist-packages" not in absolute
            )
            self._project[filename] = known
        return known

    def is_test_file(self, filename: str) -> bool:
        known = self._tests.get(filename)
        if known is None:
            name = os.path.basename(filename)  # noqa: PTH119
            known = name == "conftest.py" or any(
                fnmatch(filename if "/" in pattern else name, pattern)
                for pattern in self.test_patterns
            )
            self._tests[filename] = known
        return known


def codes_of(target: object) -> set[CodeType]:
    """The code objects that run when ``target`` is called (through decorators too)."""
    codes: set[CodeType] = set()
    seen: set[int] = set()
    todo = [target]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, staticmethod | classmethod):
            todo.append(obj.__func__)
            continue
        func = getattr(obj, "__func__", obj)  # bound methods
        code = getattr(func, "__code__", None)
        if isinstance(code, CodeType):
            codes.add(code)
        wrapped = getattr(func, "__wrapped__", None)
        if wrapped is not None:
            todo.append(wrapped)
    return codes
