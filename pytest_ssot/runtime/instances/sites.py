"""Where instances are created: creation-site frames and the code objects of factories."""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from types import CodeType

MAX_FRAMES = 4
"""Frames kept per construction (code object and instruction offset, nothing else)."""
SHOWN_FRAMES = 4
"""Project frames shown per creation site."""


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
