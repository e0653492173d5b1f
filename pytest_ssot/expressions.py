"""import-linter's module and import expressions, matched the way import-linter matches them.

``*`` stands for one module name, ``**`` for one or more. Used by the runtime
rules and by pytest-ssot's own contract types, so both read an expression alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEGMENT = r"[^.]+"


class ExpressionError(ValueError):
    """A module or import expression cannot be read."""


@dataclass(frozen=True)
class ModuleExpression:
    """A module name, or a set of them with ``*`` (one segment) and ``**`` (one or more)."""

    text: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> ModuleExpression:
        text = text.strip()
        if not text:
            raise ExpressionError("an empty module expression")
        if text.endswith(".py") and "*" not in text:
            raise ExpressionError(
                f"{text!r} is not a module expression: it names a file; write the module "
                f"name ({text[:-3].replace('/', '.')!r})"
            )
        parts = text.split(".")
        previous: str | None = None
        for part in parts:
            if not part:
                raise ExpressionError(f"{text!r} is not a module name (empty segment)")
            if part in ("*", "**"):
                if previous == "**":
                    raise ExpressionError(
                        f"{text!r}: a recursive wildcard cannot be followed by one"
                    )
                if previous == "*" and part == "**":
                    raise ExpressionError(
                        f"{text!r}: a wildcard cannot be followed by a recursive wildcard"
                    )
                previous = part
                continue
            if "*" in part:
                raise ExpressionError(f"{text!r}: a wildcard can only replace a whole module name")
            if not part.isidentifier():
                # It could never match a module name, so the rule would never apply.
                hint = (
                    ": write a dotted module name such as 'myapp.core', not a file path"
                    if any(c in text for c in "/\\")
                    else ""
                )
                raise ExpressionError(
                    f"{text!r} is not a module expression: {part!r} is not a Python name{hint}"
                )
            previous = None
        regex = None
        if "*" in text:
            pieces = []
            for part in parts:
                if part == "*":
                    pieces.append(_SEGMENT)
                elif part == "**":
                    pieces.append(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
                else:
                    pieces.append(re.escape(part))
            regex = re.compile(r"\.".join(pieces))
        return cls(text, regex)

    @property
    def has_wildcard(self) -> bool:
        return self._regex is not None

    @property
    def stem(self) -> str:
        """The literal segments before the first wildcard ('' when it starts with one)."""
        literal = []
        for part in self.text.split("."):
            if part in ("*", "**"):
                break
            literal.append(part)
        return ".".join(literal)

    def matches(self, name: str) -> bool:
        if self._regex is None:
            return name == self.text
        return self._regex.fullmatch(name) is not None

    def matches_package(self, name: str) -> bool:
        """Whether ``name`` or one of its ancestors matches (the module as a package)."""
        parts = name.split(".")
        return any(self.matches(".".join(parts[:i])) for i in range(len(parts), 0, -1))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ImportExpression:
    """``importer -> imported``, each side a module expression (as in ``ignore_imports``)."""

    importer: ModuleExpression
    imported: ModuleExpression

    @classmethod
    def parse(cls, text: str) -> ImportExpression:
        importer, arrow, imported = text.partition("->")
        if not arrow or not importer.strip() or not imported.strip():
            raise ExpressionError(
                f"{text.strip()!r} must look like 'package.importer -> package.imported'"
            )
        return cls(ModuleExpression.parse(importer), ModuleExpression.parse(imported))

    def matches(self, importer: str, imported: str) -> bool:
        return self.importer.matches(importer) and self.imported.matches(imported)

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}"
