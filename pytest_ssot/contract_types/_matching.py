"""Patterns the contract types accept: module expressions, name patterns, definition expressions.

Module expressions mean what they mean in import-linter and grimp (``*`` is one
module segment, ``**`` one or more), but are matched here, in Python, because
the contracts also match modules grimp never saw (files in folders without an
``__init__.py``). Name patterns are shell-style (``*`` any run of characters,
``?`` one character), matched against whole names and case-sensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from importlinter import fields

from pytest_ssot.expressions import ModuleExpression

_NAME_PATTERN_CHARS = re.compile(r"^[\w*?]+$")
# What may follow a name in ``class Name(...)`` / ``def name(...)``, including the
# ``[`` of PEP 695 type parameters and a backslash line continuation.
_AFTER_NAME = r"(?=[\s(:\[\\]|$)"
_NAME_CHAR = r"[^\s(:\[\\]"


class NamePattern:
    """A class or function name, exact or with ``*`` and ``?`` wildcards."""

    def __init__(self, text: str) -> None:
        text = text.strip()
        if not _NAME_PATTERN_CHARS.match(text) or text[0].isdigit():
            raise ValueError(
                f"{text!r} is not a name pattern: use a Python name, with * for any run of "
                "characters and ? for one character (for example *WebSocketManager)"
            )
        self.text = text
        self._regex = re.compile(_translate(text, "(?s:.*)", "(?s:.)"))

    @property
    def is_exact(self) -> bool:
        return "*" not in self.text and "?" not in self.text

    def matches(self, name: str) -> bool:
        return self._regex.fullmatch(name) is not None

    @property
    def literal(self) -> str:
        """The longest run of the name without wildcards: every matching name contains it."""
        return max(re.split(r"[*?]", self.text), key=len)

    def definition_regex(self) -> str:
        """A regex that finds ``class <name>`` or ``def <name>`` for every matching name.

        Used to skip files that cannot define a matching name before parsing them;
        it may find more than the parser does, never less.
        """
        name = _translate(self.text, f"{_NAME_CHAR}*", _NAME_CHAR)
        return rf"\b(?:class|def)[\s\\]+{name}{_AFTER_NAME}"

    def __repr__(self) -> str:
        return f"NamePattern({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamePattern) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _translate(text: str, star: str, question: str) -> str:
    parts = []
    for char in text:
        if char == "*":
            parts.append(star)
        elif char == "?":
            parts.append(question)
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def class_regex(names: set[str] | frozenset[str]) -> str:
    """A regex that finds ``class <name>`` for any of the exact names."""
    alternatives = "|".join(re.escape(n) for n in sorted(names))
    return rf"\bclass[\s\\]+(?:{alternatives}){_AFTER_NAME}"


class ModulePattern:
    """An import-linter module expression (``pkg.mod``, ``pkg.*.mod``, ``pkg.**``)."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._expression = ModuleExpression.parse(expression)
        # Without a wildcard (the common case, matched against every module of the graph):
        # the name itself, and the prefix of everything below it.
        self._exact = None if self._expression.has_wildcard else self._expression.text
        self._below = f"{self._exact}."

    @property
    def has_wildcard(self) -> bool:
        return self._expression.has_wildcard

    def matches(self, module: str, *, as_package: bool = False) -> bool:
        """Whether ``module`` matches; with ``as_package``, also when an ancestor matches."""
        exact = self._exact
        if exact is not None:
            return module == exact or (as_package and module.startswith(self._below))
        if as_package:
            return self._expression.matches_package(module)
        return self._expression.matches(module)

    def __repr__(self) -> str:
        return f"ModulePattern({self.expression!r})"


@dataclass(frozen=True)
class DefinitionExpression:
    """``module expression:name pattern``, for example ``pkg.legacy.*:make_*``."""

    text: str
    module: ModulePattern
    name: NamePattern

    def matches(self, module: str, name: str) -> bool:
        return self.module.matches(module) and self.name.matches(name)

    def __str__(self) -> str:
        return self.text


class NamePatternField(fields.Field[NamePattern]):
    """A contract option holding one name pattern."""

    def parse(self, raw_data: str | list[str]) -> NamePattern:
        text = fields.StringField().parse(raw_data)
        try:
            return NamePattern(text)
        except ValueError as exc:
            raise fields.ValidationError(str(exc)) from None


class DefinitionExpressionField(fields.Field[DefinitionExpression]):
    """A contract option holding one ``module expression:name pattern``."""

    def parse(self, raw_data: str | list[str]) -> DefinitionExpression:
        text = fields.StringField().parse(raw_data).strip()
        module_text, colon, name_text = text.rpartition(":")
        if not colon or not module_text.strip() or not name_text.strip():
            raise fields.ValidationError(
                f"{text!r} must be in the form 'package.module:Name' "
                "(module expression, a colon, a name pattern)"
            )
        expression = fields.ModuleExpressionField().parse(module_text.strip())
        try:
            name = NamePattern(name_text)
        except ValueError as exc:
            raise fields.ValidationError(str(exc)) from None
        return DefinitionExpression(text, ModulePattern(str(expression)), name)


class NonEmptyListField(fields.ListField):
    """A list option that must name something: an empty list would make the contract check
    nothing and pass, so it is an invalid option (under ``lint-imports`` too)."""

    def __init__(self, *args: Any, meaning: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meaning = meaning

    def parse(self, raw_data: str | list[Any]) -> list[Any]:
        parsed: list[Any] = super().parse(raw_data)
        if not parsed:
            raise fields.ValidationError(
                f"is empty, so the contract checks nothing: list at least one {self.meaning}."
            )
        return parsed
