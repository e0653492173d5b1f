"""Reading a manager's key from a constructor's arguments, without a full ``Signature.bind``."""

from __future__ import annotations

import inspect
import operator
import sys
from collections.abc import Callable, Hashable, Sequence
from typing import Any

MISSING: Any = object()
"""An argument that was not passed and has no default."""


class UnreadableKey:
    """The key of an instance whose key path could not be read."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE = UnreadableKey()


class UnhashableKey:
    """Stands for a key value that cannot be hashed: compared by its repr."""

    def __init__(self, value: object) -> None:
        self.text = repr(value)

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnhashableKey) and other.text == self.text

    def __repr__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# Reading the key from the constructor's arguments


class Binder:
    """Reads one constructor argument from ``(args, kwargs)`` the way ``Signature.bind`` does.

    Built once per wrapped constructor from ``inspect.signature``, so a
    construction costs a tuple index or a dict lookup instead of a full bind.
    """

    __slots__ = ("attributes", "default", "fast", "getter", "keyword", "name", "position")

    def __init__(
        self,
        name: str,
        position: int | None,
        keyword: bool,
        default: Any,
        attributes: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.position = position
        self.keyword = keyword
        self.default = default
        self.attributes = tuple(attributes)
        """The attribute path read from the argument (``user_id`` of ``user_context``)."""
        self.getter: Callable[[Any], Any] | None = (
            operator.attrgetter(".".join(self.attributes)) if self.attributes else None
        )
        self.fast = (
            sys.maxsize if position is None else position,
            name,
            keyword,
            default,
            self.getter,
        )
        """The fields read on every construction, in one tuple (no position: sys.maxsize)."""

    @classmethod
    def for_callable(
        cls,
        func: Callable[..., Any],
        name: str,
        attributes: Sequence[str] = (),
        *,
        bound: bool = False,
    ) -> Binder:
        """ValueError if ``name`` is not a parameter (``bound``: the first one is self/cls)."""
        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        if (
            not bound
            and params
            and params[0].kind
            in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ):
            params = params[1:]
        position = 0
        var_keyword = False
        for param in params:
            kind = param.kind
            default = MISSING if param.default is inspect.Parameter.empty else param.default
            if kind is inspect.Parameter.VAR_POSITIONAL:
                if param.name == name:
                    raise ValueError(f"{name!r} is the *{name} parameter, not a single argument")
                continue
            if kind is inspect.Parameter.VAR_KEYWORD:
                var_keyword = True
                if param.name == name:
                    raise ValueError(f"{name!r} is the **{name} parameter, not a single argument")
                continue
            if param.name == name:
                if kind is inspect.Parameter.POSITIONAL_ONLY:
                    return cls(name, position, False, default, attributes)
                if kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
                    return cls(name, position, True, default, attributes)
                return cls(name, None, True, default, attributes)
            if kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                position += 1  # (no positional parameter follows *args)
        if var_keyword:
            return cls(name, None, True, MISSING, attributes)
        shown = str(signature)
        raise ValueError(f"names no parameter of the constructor {shown}")

    @classmethod
    def through(
        cls,
        chain: Sequence[Callable[..., Any]],
        name: str,
        attributes: Sequence[str] = (),
        *,
        bound: bool = False,
    ) -> Binder:
        """A binder for the first constructor of ``chain`` (the MRO's, outermost first) that
        is not a pure pass-through: ``def __init__(self, *args, **kwargs)`` hands its
        arguments on unchanged, so the key is bound against the next one, which names it.
        ValueError as ``for_callable`` when none does."""
        for func in chain[:-1]:
            if not _passes_through(func, name):
                return cls.for_callable(func, name, attributes, bound=bound)
        return cls.for_callable(chain[-1], name, attributes, bound=bound)

    def value(self, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        position = self.position
        if position is not None and position < len(args):
            return args[position]
        if self.keyword:
            found = kwargs.get(self.name, MISSING)
            if found is not MISSING:
                return found
        return self.default


def _passes_through(func: Callable[..., Any], name: str) -> bool:
    """Takes nothing but ``*args, **kwargs`` (after self): the arguments go on unchanged."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (ValueError, TypeError):
        return False
    if params and params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        params = params[1:]
    kinds = sorted(p.kind for p in params)
    return kinds == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD] and all(
        p.name != name for p in params
    )


def read_key(
    binder: Binder, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Hashable, str | None]:
    """The key value and, when it is None or unreadable, why."""
    value = binder.value(args, kwargs)
    getter = binder.getter
    if getter is not None:
        try:
            value = getter(value)
        except Exception:  # None on the way, or a property that raises
            return explain_key(binder, args, kwargs)
    if value is None or value is MISSING:
        return explain_key(binder, args, kwargs)
    try:
        hash(value)
    except Exception:
        return UnhashableKey(value), None
    return value, None


def explain_key(
    binder: Binder, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Hashable, str | None]:
    """The slow path of read_key: a None on the way, or an attribute that cannot be read."""
    value = binder.value(args, kwargs)
    if value is MISSING:
        return UNREADABLE, f"{binder.name} was not passed"
    path = binder.name
    for attribute in binder.attributes:
        if value is None:
            return None, f"{path} is None"
        try:
            value = getattr(value, attribute)
        except Exception as exc:
            return UNREADABLE, f"{path}.{attribute} could not be read ({type(exc).__name__}: {exc})"
        path = f"{path}.{attribute}"
    if value is None:
        return None, f"{path} is None"
    return value, None
