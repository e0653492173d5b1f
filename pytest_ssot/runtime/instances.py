"""The instance tracker: wraps the declared classes' constructors and counts live instances.

Only the declared classes are touched. A class whose module is already imported
is wrapped when the tracker is installed; the others when their module is
imported, through a ``sys.meta_path`` finder that answers only for the declared
module names and hands everything else on. ``uninstall`` puts every original
back and removes the finder.

Wrapping replaces ``__init__`` on the declared class itself (or ``__new__`` for a
class that is built in ``__new__`` alone), so subclasses inherit the wrapper. A
per-thread guard keyed by the object makes a ``super().__init__`` chain count
once. Live instances are held by weak reference; instances of classes that do
not support weak references are counted by construction instead.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import linecache
import operator
import os
import sys
import threading
import typing
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import CodeType, FrameType, FunctionType, ModuleType
from typing import Any, NamedTuple

from pytest_ssot.runtime.findings import Finding
from pytest_ssot.runtime.managers import PROCESS, ManagerSpec, ObjectPath
from pytest_ssot.runtime.phase import Phase, PhaseTracker

DUPLICATE = "duplicate-instance"
BYPASS = "factory-bypass"
DECLARATION = "manager-declaration"

MAX_FRAMES = 4
"""Frames kept per construction (code object and instruction offset, nothing else)."""
SHOWN_FRAMES = 4
"""Project frames shown per creation site."""
_PRUNE_EVERY = 4096
"""Instances created between two prunings of the process-wide and shared windows."""

_MISSING: Any = object()
PROCESS_WINDOW: tuple[str, ...] = ("process",)
SHARED_WINDOW: tuple[str, ...] = ("shared",)
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + os.sep


class Unresolved:
    """The key of an instance whose key path could not be read."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNRESOLVED = Unresolved()


class _UnhashableKey:
    """Stands for a key value that cannot be hashed: compared by its repr."""

    def __init__(self, value: object) -> None:
        self.text = repr(value)

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _UnhashableKey) and other.text == self.text

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
            default = _MISSING if param.default is inspect.Parameter.empty else param.default
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
            return cls(name, None, True, _MISSING, attributes)
        shown = str(signature)
        raise ValueError(f"names no parameter of the constructor {shown}")

    def value(self, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        position = self.position
        if position is not None and position < len(args):
            return args[position]
        if self.keyword:
            found = kwargs.get(self.name, _MISSING)
            if found is not _MISSING:
                return found
        return self.default


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
            return _explain_key(binder, args, kwargs)
    if value is None or value is _MISSING:
        return _explain_key(binder, args, kwargs)
    try:
        hash(value)
    except Exception:
        return _UnhashableKey(value), None
    return value, None


def _explain_key(
    binder: Binder, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Hashable, str | None]:
    """The slow path of read_key: a None on the way, or an attribute that cannot be read."""
    value = binder.value(args, kwargs)
    if value is _MISSING:
        return UNRESOLVED, f"{binder.name} was not passed"
    path = binder.name
    for attribute in binder.attributes:
        if value is None:
            return None, f"{path} is None"
        try:
            value = getattr(value, attribute)
        except Exception as exc:
            return UNRESOLVED, f"{path}.{attribute} could not be read ({type(exc).__name__}: {exc})"
        path = f"{path}.{attribute}"
    if value is None:
        return None, f"{path} is None"
    return value, None


# ---------------------------------------------------------------------------
# Where instances are created


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


def _line_of(code: CodeType, lasti: int) -> int:
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
                and not absolute.startswith(_PACKAGE_DIR)
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


class InstanceRecord(NamedTuple):
    """One instance of a managed class, as counted for one manager.

    A named tuple: made for every construction, so it must be cheap to make.
    """

    manager: str
    cls: type
    key: Hashable
    key_note: str | None
    """Why the key is None or unreadable, if it is."""
    phase: Phase
    """The part of the run that created it (a test's setup, call or teardown, a fixture...)."""
    frames: Sequence[Any]
    """Code object and instruction offset of the innermost frames, flattened."""
    ref: weakref.ref[Any] | None
    """None: the class does not support weak references."""
    seq: int
    window: tuple[str, ...]
    paths: Paths

    @property
    def alive(self) -> bool:
        """Not yet garbage collected (always true when counted by construction)."""
        return self.ref is None or self.ref() is not None

    @property
    def counted_by_construction(self) -> bool:
        """The class does not support weak references: the instance counts until the test ends."""
        return self.ref is None

    def instance(self) -> Any:
        """The instance if it is still alive and weakly referenceable, else None."""
        return self.ref() if self.ref is not None else None

    def _site_at(self, index: int) -> Site:
        code: CodeType = self.frames[index]
        line = _line_of(code, self.frames[index + 1])
        return Site(self.paths.display(code.co_filename), line, code.co_name, code.co_filename)

    @property
    def site(self) -> Site | None:
        """The frame that constructed the instance."""
        return self._site_at(0) if self.frames else None

    def stack(self) -> list[Site]:
        """The creation site and the project frames that led to it, innermost first."""
        shown: list[Site] = []
        for index in range(0, len(self.frames), 2):
            code: CodeType = self.frames[index]
            if index == 0 or self.paths.is_project(code.co_filename):
                shown.append(self._site_at(index))
            if len(shown) >= SHOWN_FRAMES:
                break
        return shown

    def describe_key(self, key_text: str | None) -> str:
        if key_text is None:
            return ""
        text = f"{key_text}={self.key!r}"
        return f"{text} ({self.key_note})" if self.key_note else text

    def __repr__(self) -> str:  # the frames and paths are noise
        site = self.site
        where = site.render() if site else "?"
        name = self.cls.__qualname__
        return f"<InstanceRecord {self.manager} {name} key={self.key!r} at {where}>"


# ---------------------------------------------------------------------------
# Per-manager state


class Rule:
    """The runtime state of one declared manager."""

    def __init__(self, spec: ManagerSpec) -> None:
        self.spec = spec
        self.windows: dict[tuple[str, ...], dict[Hashable, _Bucket]] = {}
        self.created_by_class: dict[type, int] = {}
        self.peak: dict[Hashable, int] = {}
        self.instrumented: dict[str, str] = {}
        """class path -> qualified name of the class object it resolved to."""
        self.untrackable: set[type] = set()
        self.unusable: set[str] = set()
        """Declared class paths that cannot be watched (reported as declaration problems)."""
        # Compared by id (a code object's hash is recomputed at each lookup); the
        # list keeps them alive so that no id is reused.
        self._factory_codes: list[CodeType] = []
        self.factory_ids: set[int] = set()
        self.unresolved_factories = list(spec.factories)
        self.key_text = spec.key.text if spec.key else ""
        self.name = spec.name
        self.max = spec.max
        self.factories = bool(spec.factories)

        self.cached: _WindowCache = (None, SHARED_WINDOW, {}, None)
        """The window of the last phase that constructed an instance (see ``enter``)."""

    @property
    def created(self) -> int:
        """How many instances were counted, alive or not."""
        return sum(self.created_by_class.values())

    def enter(self, phase: Phase) -> _WindowCache:
        """The window a new instance is counted in, its buckets, and the buckets it
        also counts against (under the lock).

        Cached for the phase: phases change rarely, constructions may be many.
        """
        window = self._window_for(phase)
        buckets = self.windows.setdefault(window, {})
        # A test's instances count together with those shared by every test.
        shared = self.windows.setdefault(SHARED_WINDOW, {}) if window[0] == "test" else None
        self.cached = (phase, window, buckets, shared)
        return self.cached

    def forget(self, window: tuple[str, ...]) -> None:
        self.windows.pop(window, None)
        self.cached = (None, SHARED_WINDOW, {}, None)

    def _window_for(self, phase: Phase) -> tuple[str, ...]:
        if self.spec.scope == PROCESS:
            return PROCESS_WINDOW
        if phase.in_test and phase.fixture_scope in (None, "function"):
            return ("test", phase.nodeid)
        # Import time, collection, and fixtures wider than a test: shared by every test.
        return SHARED_WINDOW

    def resolve_factories(self, problem: Callable[[str], None]) -> None:
        """Find the code objects of the factories whose modules are imported by now.

        A factory whose module is not imported yet cannot be running: it is looked
        up again at the next construction.
        """
        still: list[ObjectPath] = []
        for path in self.unresolved_factories:
            module = sys.modules.get(path.module)
            if module is None:
                still.append(path)
                continue
            try:
                target = path.resolve(module)
            except AttributeError:
                problem(f"factory {path.text}: module {path.module} has no {path.qualname!r}")
                continue
            codes = _codes_of(target)
            if not codes:
                problem(f"factory {path.text} is not a Python function")
                continue
            self._factory_codes.extend(codes)
            self.factory_ids.update(id(code) for code in codes)
        self.unresolved_factories = still


_Raw = tuple[Any, ...]
"""An InstanceRecord's fields in a plain tuple: what the hot path makes and stores."""
_WindowCache = tuple[
    Phase | None, tuple[str, ...], dict[Hashable, "_Bucket"], dict[Hashable, "_Bucket"] | None
]
"""(phase, window, its buckets, the shared buckets it also counts against, or None)."""
_REF = 6
_SEQ = 7


class _Bucket:
    """The instances counted together: one key in one window."""

    __slots__ = ("strong", "weak")

    def __init__(self) -> None:
        self.weak: list[_Raw] = []
        """Weakly referenced: pruned when collected."""
        self.strong: list[_Raw] = []
        """Counted by construction (no weak reference possible): never pruned."""

    def prune(self, obj: object = None) -> int:
        """How many are alive; -1 if ``obj`` is one of them (counted already)."""
        if self.weak:
            live = []
            for raw in self.weak:
                found = raw[_REF]()
                if found is None:
                    continue
                if found is obj:
                    return -1
                live.append(raw)
            self.weak = live
        return len(self.weak) + len(self.strong)

    def records(self) -> list[_Raw]:
        return [*self.weak, *self.strong]


def _codes_of(target: object) -> set[CodeType]:
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


# ---------------------------------------------------------------------------
# Wrapping constructors


class _Patch:
    """One wrapped class: what was there before, what we put there, for which managers."""

    def __init__(self, cls: type, attr: str, original: Any, had_own: bool) -> None:
        self.cls = cls
        self.attr = attr
        self.original = original
        self.had_own = had_own
        self.installed: Any = None
        self.rules: tuple[Rule, ...] = ()
        self.rule_set: frozenset[Rule] = frozenset()
        self.pairs: tuple[tuple[Rule, Binder | None], ...] = ()
        self.alone = True
        """No other wrapped class is a base or a subclass of this one: no wrapper can run
        inside this one's for the same object, so the per-thread guard is not needed."""

    @classmethod
    def for_class(cls, klass: type) -> _Patch:
        """What wrapping ``klass`` would replace: ``__init__``, or ``__new__`` for a class
        that is built in ``__new__`` alone."""
        resolved: Any = klass  # looked up through the MRO, as type.__call__ does
        uses_new = resolved.__init__ is object.__init__ and resolved.__new__ is not object.__new__
        attr = "__new__" if uses_new else "__init__"
        return cls(klass, attr, klass.__dict__.get(attr), attr in klass.__dict__)

    def signature_target(self) -> Any:
        """The constructor function whose parameters the wrapper receives."""
        if self.had_own:
            entry = self.original
        else:
            entry = None
            for base in self.cls.__mro__[1:]:
                if self.attr in base.__dict__:
                    entry = base.__dict__[self.attr]
                    break
        if isinstance(entry, staticmethod | classmethod):
            entry = entry.__func__
        return entry

    def add(self, rule: Rule, binder: Binder | None) -> None:
        self.rules = (*self.rules, rule)
        self.rule_set = frozenset(self.rules)
        self.pairs = (*self.pairs, (rule, binder))


def _original_init(patch: _Patch) -> Callable[..., Any]:
    owner: type = patch.cls
    original = patch.original
    if patch.had_own:
        if isinstance(original, FunctionType):
            return original

        def call_descriptor(self: Any, *args: Any, **kwargs: Any) -> Any:
            return original.__get__(self, type(self))(*args, **kwargs)

        return call_descriptor

    def call_next(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Looked up at each call: a base class may be wrapped (or restored) later.
        return super(owner, self).__init__(*args, **kwargs)  # type: ignore[arg-type]

    return call_next


def _original_new(patch: _Patch) -> Callable[..., Any]:
    owner: type = patch.cls
    original = patch.original
    if patch.had_own:
        func = original.__func__ if isinstance(original, staticmethod) else original
        return typing.cast(Callable[..., Any], func)

    def call_next(klass: type, *args: Any, **kwargs: Any) -> Any:
        following: Any = super(owner, klass).__new__  # type: ignore[arg-type]
        if following is object.__new__:
            return object.__new__(klass)
        return following(klass, *args, **kwargs)

    return call_next


_Pairs = tuple[tuple["Rule", "Binder | None"], ...]


def _busy(local: threading.local, name: str) -> dict[int, frozenset[Rule]]:
    """This thread's constructions in progress, by object (or class, for ``__new__``)."""
    found: dict[int, frozenset[Rule]] | None = getattr(local, name, None)
    if found is None:
        found = {}
        setattr(local, name, found)
    return found


def _call_claimed(
    busy: dict[int, frozenset[Rule]],
    guard: int,
    patch: _Patch,
    call: Callable[..., Any],
    first: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[_Pairs, Any]:
    """Run a wrapped constructor that may sit inside another one for the same object (a
    ``super().__init__`` chain through several wrapped classes): the outermost counts for
    its managers, an inner one only for managers no outer one counts. Returns the
    (manager, key binder) pairs this constructor counts for, and what ``call`` returned."""
    claimed = busy.get(guard)
    if claimed is None:
        busy[guard] = patch.rule_set
        try:
            return patch.pairs, call(first, *args, **kwargs)
        finally:
            busy.pop(guard, None)
    mine = tuple(pair for pair in patch.pairs if pair[0] not in claimed)
    if mine:
        busy[guard] = claimed | patch.rule_set
    return mine, call(first, *args, **kwargs)


def _make_init_wrapper(tracker: InstanceTracker, patch: _Patch) -> Callable[..., None]:
    call = _original_init(patch)
    local = tracker._local
    owner: type = patch.cls
    inherited = not patch.had_own

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if patch.alone:
            if inherited:  # call_next without its frame (the common case must be cheap)
                super(owner, self).__init__(*args, **kwargs)  # type: ignore[arg-type]
            else:
                call(self, *args, **kwargs)
            if tracker.active:
                tracker._constructed(self, patch.pairs, args, kwargs)
            return
        if not tracker.active:
            call(self, *args, **kwargs)
            return
        busy = _busy(local, "init")
        mine, _ = _call_claimed(busy, id(self), patch, call, self, args, kwargs)
        if mine:
            tracker._constructed(self, mine, args, kwargs)

    return __init__


def _make_new_wrapper(tracker: InstanceTracker, patch: _Patch) -> Callable[..., Any]:
    call = _original_new(patch)
    local = tracker._local

    def __new__(klass: type, *args: Any, **kwargs: Any) -> Any:
        if patch.alone:
            obj = call(klass, *args, **kwargs)
            if tracker.active and isinstance(obj, patch.cls):
                tracker._constructed(obj, patch.pairs, args, kwargs)
            return obj
        if not tracker.active:
            return call(klass, *args, **kwargs)
        busy = _busy(local, "new")
        mine, obj = _call_claimed(busy, id(klass), patch, call, klass, args, kwargs)
        if mine and isinstance(obj, patch.cls):
            tracker._constructed(obj, mine, args, kwargs)
        return obj

    return __new__


def _wrapper_codes() -> frozenset[CodeType]:
    """The code objects of our own wrapper frames, skipped when finding the creation site."""
    makers = (_original_init, _original_new, _make_init_wrapper, _make_new_wrapper)
    nested = {
        const for make in makers for const in make.__code__.co_consts if isinstance(const, CodeType)
    }
    return frozenset({*nested, _call_claimed.__code__})


_OWN_CODES = _wrapper_codes()
_SKIPPED_CODES = frozenset(
    _codes_of(vars(typing._BaseGenericAlias).get("__call__"))
    if hasattr(typing, "_BaseGenericAlias")
    else ()
)
"""typing's ``Box[int](...)`` calls the class from here: not the creation site either."""


class _TypeInfo:
    __slots__ = ("codes", "skip", "weakrefable")

    def __init__(self, codes: frozenset[CodeType], weakrefable: bool) -> None:
        self.codes = codes  # kept alive, so that their ids stay theirs
        self.skip = frozenset(id(code) for code in codes)
        self.weakrefable = weakrefable


def _constructor_codes(cls: type) -> frozenset[CodeType]:
    codes: set[CodeType] = set(_OWN_CODES | _SKIPPED_CODES)
    for klass in cls.__mro__:
        for attr in ("__init__", "__new__"):
            entry = klass.__dict__.get(attr)
            if entry is not None:
                codes |= _codes_of(entry)
    return frozenset(codes)


# ---------------------------------------------------------------------------
# Watching imports of the declared modules


class _WatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then tells the tracker the module is ready."""

    def __init__(self, loader: Any, loaded: Callable[[str, ModuleType], None]) -> None:
        self._loader = loader
        self._loaded = loaded

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # Nothing but this import sees the wrapper: the module keeps its real loader.
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        self._loader.exec_module(module)
        self._loaded(module.__name__, sys.modules.get(module.__name__, module))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """A meta-path finder that acts only for the declared modules' names."""

    def __init__(self, names: frozenset[str], loaded: Callable[[str, ModuleType], None]) -> None:
        self.names = names
        self._loaded = loaded
        self._local = threading.local()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        busy: set[str] = self._local.__dict__.setdefault("busy", set())
        if fullname in busy:
            return None
        busy.add(fullname)
        try:
            spec = self._find_elsewhere(fullname, path, target)
        finally:
            busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _WatchingLoader(spec.loader, self._loaded)
        return spec

    def _find_elsewhere(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> importlib.machinery.ModuleSpec | None:
        finders = list(sys.meta_path)
        # Only those after this one, as the import system would ask them: the ones
        # before have already answered None.
        mine = next((i for i, finder in enumerate(finders) if finder is self), -1)
        for finder in finders[mine + 1 :]:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                return typing.cast(importlib.machinery.ModuleSpec, spec)
        return None


def module_exists(name: str) -> bool | None:
    """Whether a module can be found, without importing anything new (None: cannot tell)."""
    parent = name.rpartition(".")[0]
    if parent and parent not in sys.modules:
        return module_exists(parent) and None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# ---------------------------------------------------------------------------
# The tracker


@dataclass(frozen=True)
class Violation:
    """What ``_constructed`` found, turned into a Finding outside the lock."""

    check: str
    rule: Rule
    record: InstanceRecord
    others: tuple[InstanceRecord, ...] = ()


class InstanceTracker:
    """Counts the live instances of the declared classes and reports broken rules."""

    def __init__(
        self,
        specs: Iterable[ManagerSpec],
        phases: PhaseTracker,
        report: Callable[[Finding], None],
        paths: Paths,
    ) -> None:
        self.rules = [Rule(spec) for spec in specs]
        self.phases = phases
        self.report = report
        self.paths = paths
        self.active = False
        self._local = threading.local()
        self._lock = threading.RLock()
        self._patches: dict[type, _Patch] = {}
        self._types: dict[type, _TypeInfo] = {}
        self._per_test: dict[str, list[_Raw]] = {}
        self._keep: set[str] = set()
        self._seq = 0
        self._pruned_at = 0
        self._reported: set[str] = set()
        self._watcher: _ImportWatcher | None = None
        self.restore_problems: list[str] = []

    # -- installing and restoring ---------------------------------------------------

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(m for rule in self.rules for m in rule.spec.modules)

    def install(self) -> None:
        """Start watching: wrap what is imported, watch imports of the rest."""
        if self.active or not self.rules:
            return
        self.active = True
        self._watcher = _ImportWatcher(self.modules, self._module_loaded)
        sys.meta_path.insert(0, self._watcher)
        for name in sorted(self.modules):
            module = sys.modules.get(name)
            if module is not None:
                self._module_loaded(name, module)

    def uninstall(self) -> None:
        """Put every original constructor back and stop watching imports. Idempotent."""
        self.active = False
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            sys.meta_path[:] = [f for f in sys.meta_path if f is not watcher]
        with self._lock:
            patches = list(self._patches.values())
            self._patches.clear()
            self._types.clear()
        for patch in reversed(patches):
            current = patch.cls.__dict__.get(patch.attr)
            if current is not patch.installed:
                self.restore_problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} was replaced "
                    "during the run by something else; left as it is"
                )
                continue
            try:
                if patch.had_own:
                    setattr(patch.cls, patch.attr, patch.original)
                else:
                    delattr(patch.cls, patch.attr)
            except Exception as exc:  # put back all the others whatever happens to one
                self.restore_problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} could not be "
                    f"restored ({type(exc).__name__}: {exc})"
                )

    def is_wrapped(self, cls: type) -> bool:
        return cls in self._patches

    def _module_loaded(self, name: str, module: ModuleType) -> None:
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module != name:
                    continue
                try:
                    self._resolve_and_wrap(rule, path, module)
                except Exception as exc:  # never break the import of the user's module
                    rule.unusable.add(path.text)
                    kind = type(exc).__name__
                    self._problem(rule, f"{path.text} could not be instrumented ({kind}: {exc})")

    def _resolve_and_wrap(self, rule: Rule, path: ObjectPath, module: ModuleType) -> None:
        try:
            target = path.resolve(module)
        except AttributeError:
            rule.unusable.add(path.text)
            self._problem(rule, f"{path.text}: module {path.module} has no {path.qualname!r}")
            return
        if not isinstance(target, type):
            rule.unusable.add(path.text)
            self._problem(rule, f"{path.text} is not a class ({type(target).__name__})")
            return
        with self._lock:
            patch = self._patches.get(target)
            if (patch is not None and rule in patch.rule_set) or (
                patch is None and self._inherits_wrapper(target, rule)
            ):
                # The same class under another name (a legacy alias), or a subclass that
                # inherits a constructor already wrapped for this manager.
                rule.instrumented[path.text] = _qualified(target)
                return
            binder: Binder | None = None
            key = rule.spec.key
            if key is not None:
                probe = patch or _Patch.for_class(target)
                try:
                    binder = Binder.for_callable(
                        probe.signature_target(), key.parameter, key.attributes
                    )
                except (ValueError, TypeError) as exc:
                    rule.unusable.add(path.text)
                    self._problem(
                        rule, f"key {key.text!r}: {exc}; {path.text} is not watched", path.text
                    )
                    return
            if patch is None:
                patch = self._wrap(target)
            patch.add(rule, binder)
            rule.instrumented[path.text] = _qualified(target)
            self._types.clear()

    def _inherits_wrapper(self, cls: type, rule: Rule) -> bool:
        attr = _Patch.for_class(cls).attr
        if attr in cls.__dict__:
            return False
        for base in cls.__mro__[1:]:
            if attr in base.__dict__:
                patch = self._patches.get(base)
                return (
                    patch is not None
                    and patch.installed is base.__dict__[attr]
                    and rule in patch.rule_set
                )
        return False

    def _wrap(self, cls: type) -> _Patch:
        patch = _Patch.for_class(cls)
        if patch.attr == "__new__":
            wrapper: Any = _make_new_wrapper(self, patch)
        else:
            wrapper = _make_init_wrapper(self, patch)
        target = patch.signature_target()
        if target is not None:
            functools.update_wrapper(wrapper, target)  # keeps inspect.signature(cls) right
        patch.installed = staticmethod(wrapper) if patch.attr == "__new__" else wrapper
        setattr(cls, patch.attr, patch.installed)  # TypeError for built-in and extension types
        for other in self._patches.values():
            if issubclass(cls, other.cls) or issubclass(other.cls, cls):
                other.alone = patch.alone = False
        self._patches[cls] = patch
        return patch

    # -- counting ---------------------------------------------------------------

    def _type_info(self, cls: type, obj: object) -> _TypeInfo:
        info = self._types.get(cls)
        if info is None:
            try:
                weakref.ref(obj)
                weakrefable = True
            except TypeError:
                weakrefable = False
            info = _TypeInfo(_constructor_codes(cls), weakrefable)
            self._types[cls] = info
        return info

    def _constructed(
        self,
        obj: object,
        pairs: tuple[tuple[Rule, Binder | None], ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        # The hot path: runs for every construction of a managed class, so it is
        # written for the interpreter (inlined, unrolled) rather than for reading.
        # bench/bench_construction.py measures it; tests/test_runtime_managers.py and
        # tests/unit/test_instance_tracker.py cover its branches.
        cls = type(obj)
        info = self._types.get(cls)
        if info is None:
            info = self._type_info(cls, obj)
        skip = info.skip
        frame: FrameType | None = sys._getframe(2)
        # The class's own constructors (a subclass's __init__ calling super().__init__,
        # our wrappers, typing's Generic alias) are not the creation site.
        while frame is not None and id(frame.f_code) in skip:
            frame = frame.f_back
        # The innermost MAX_FRAMES (4) frames as (code, offset) pairs, unrolled: a loop
        # with list appends costs twice as much. ``last`` is the outermost one kept.
        last = frame
        frames: tuple[Any, ...] = ()
        if frame is not None:
            f1 = frame.f_back
            if f1 is None:
                frames = (frame.f_code, frame.f_lasti)
            else:
                f2 = f1.f_back
                if f2 is None:
                    frames = (frame.f_code, frame.f_lasti, f1.f_code, f1.f_lasti)
                    last = f1
                else:
                    last = f2.f_back
                    if last is None:
                        last = f2
                        frames = (
                            frame.f_code,
                            frame.f_lasti,
                            f1.f_code,
                            f1.f_lasti,
                            f2.f_code,
                            f2.f_lasti,
                        )
                    else:
                        frames = (
                            frame.f_code,
                            frame.f_lasti,
                            f1.f_code,
                            f1.f_lasti,
                            f2.f_code,
                            f2.f_lasti,
                            last.f_code,
                            last.f_lasti,
                        )
            del f1
        phase = self.phases.current
        ref: weakref.ref[Any] | None = weakref.ref(obj) if info.weakrefable else None
        lock = self._lock
        violations: list[Violation] | None = None
        for rule, binder in pairs:
            key: Hashable = None
            note: str | None = None
            if binder is not None:
                # read_key's common case, inlined: an argument and an attribute path
                # (an unhashable key is wrapped when it is looked up, below).
                position, name, keyword, default, getter = binder.fast
                if position < len(args):
                    key = args[position]
                else:
                    key = kwargs.get(name, default) if keyword else default
                if getter is not None:
                    try:
                        key = getter(key)
                    except Exception:
                        key = None
                if key is None or key is _MISSING:
                    key, note = read_key(binder, args, kwargs)
                    if key is UNRESOLVED:
                        self._problem(rule, f"key {rule.key_text!r}: {note}")
            # acquire/release rather than "with": half the cost on this path.
            lock.acquire()
            try:
                cached = rule.cached
                if cached[0] is not phase:
                    cached = rule.enter(phase)
                _, window, buckets, shared_buckets = cached
                try:
                    bucket = buckets.get(key)
                except Exception:  # not hashable: compared by its repr
                    key = _UnhashableKey(key)
                    bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = _Bucket()
                    if key not in rule.peak:
                        rule.peak[key] = 1  # so the common count of 1 need not look
                # The live instances of the bucket (pruned of the collected ones), or
                # -1 when obj is one of them: initialised again (a singleton), not new.
                count = len(bucket.strong)
                weak = bucket.weak
                if weak:
                    live = []
                    for raw in weak:
                        found = raw[_REF]()
                        if found is None:
                            continue
                        if found is obj:
                            count = -1
                            break
                        live.append(raw)
                    else:
                        bucket.weak = weak = live
                        count += len(live)
                shared: _Bucket | None = None
                if shared_buckets is not None and count >= 0:
                    shared = shared_buckets.get(key)
                    if shared is not None:
                        in_shared = shared.prune(obj)
                        count = -1 if in_shared < 0 else count + in_shared
                if count < 0:
                    continue
                count += 1
                self._seq = seq = self._seq + 1
                raw = (
                    rule.name,
                    cls,
                    key,
                    note,
                    phase,
                    frames,
                    ref,
                    seq,
                    window,
                    self.paths,
                )
                if ref is None:
                    bucket.strong.append(raw)
                    rule.untrackable.add(cls)
                else:
                    weak.append(raw)
                if self._keep and phase.nodeid in self._keep and phase.in_test:
                    self._per_test.setdefault(phase.nodeid, []).append(raw)
                by_class = rule.created_by_class
                by_class[cls] = by_class.get(cls, 0) + 1
                if count > 1 and count > rule.peak[key]:
                    rule.peak[key] = count
                if count > rule.max:
                    others = bucket.records() + (shared.records() if shared else [])
                    others = sorted((r for r in others if r is not raw), key=_by_seq)
                    violations = violations or []
                    violations.append(
                        Violation(
                            DUPLICATE,
                            rule,
                            InstanceRecord._make(raw),
                            tuple(map(InstanceRecord._make, others)),
                        )
                    )
            finally:
                lock.release()
            if (
                rule.factories
                and not (frames and id(frames[0]) in rule.factory_ids)
                and not self._inside_factory(rule, frames, last)
            ):
                violations = violations or []
                violations.append(Violation(BYPASS, rule, InstanceRecord._make(raw)))
        if violations:
            for violation in violations:
                self.report(self._finding(violation))

    def _inside_factory(self, rule: Rule, frames: tuple[Any, ...], rest: FrameType | None) -> bool:
        if rule.unresolved_factories:
            rule.resolve_factories(lambda problem: self._problem(rule, problem))
        codes = rule.factory_ids
        if codes:
            for code in frames[::2]:
                if id(code) in codes:
                    return True
        if not frames:
            return True  # created by the interpreter itself: nothing to blame
        if rule.spec.allow_direct_in_tests and self.paths.is_test_file(frames[0].co_filename):
            return True
        frame = rest.f_back if rest is not None else None  # beyond the frames kept
        while codes and frame is not None:
            if id(frame.f_code) in codes:
                return True
            frame = frame.f_back
        return False

    def _prune(self) -> None:
        self._pruned_at = self._seq
        for rule in self.rules:
            for window in (PROCESS_WINDOW, SHARED_WINDOW):
                buckets = rule.windows.get(window)
                if not buckets:
                    continue
                for key in list(buckets):
                    if not buckets[key].prune():
                        del buckets[key]

    def keep_records(self, nodeid: str) -> None:
        """Keep every record the test makes, for the ``ssot_instances`` fixture."""
        with self._lock:
            self._keep.add(nodeid)

    def end_test(self, nodeid: str) -> None:
        """Forget the test's window: its instances never count against another test."""
        window = ("test", nodeid)
        with self._lock:
            for rule in self.rules:
                rule.forget(window)
            self._per_test.pop(nodeid, None)
            self._keep.discard(nodeid)
            if self._seq - self._pruned_at >= _PRUNE_EVERY:
                self._prune()  # between tests, not on the construction path

    def records_for(self, nodeid: str) -> list[InstanceRecord]:
        """Every instance counted during the test so far, oldest first (see keep_records)."""
        with self._lock:
            raws = list(self._per_test.get(nodeid, ()))
        return [InstanceRecord._make(raw) for raw in raws]

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.spec.name == name:
                return rule
        declared = ", ".join(repr(r.spec.name) for r in self.rules) or "none"
        raise ValueError(f"no manager named {name!r} is declared (declared: {declared})")

    # -- problems and findings ------------------------------------------------------

    def _problem(self, rule: Rule, problem: str, fingerprint_detail: str | None = None) -> None:
        """A declaration that cannot be applied: reported once, as an error finding."""
        spec = rule.spec
        fingerprint = f"{DECLARATION}: {spec.name}: {fingerprint_detail or problem}"
        with self._lock:
            if fingerprint in self._reported:
                return
            self._reported.add(fingerprint)
        phase = self.phases.current
        self.report(
            Finding(
                check=DECLARATION,
                rule=spec.name,
                summary=f"manager {spec.name!r} ({spec.where}): {problem}",
                details=(
                    f"The declaration of manager {spec.name!r} at {spec.where} cannot be applied "
                    f"as written (found during {phase.describe()}). Fix the declaration: until "
                    "then this part of the rule is not checked."
                ),
                phase=phase,
                fingerprint=fingerprint,
            )
        )

    def check_unimported(self) -> None:
        """At session end: a declared class whose module does not exist is an error."""
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module in sys.modules or path.text in rule.unusable:
                    continue
                if module_exists(path.module) is False:
                    self._problem(rule, f"{path.text}: there is no module named {path.module!r}")

    def _finding(self, violation: Violation) -> Finding:
        rule, record = violation.rule, violation.record
        spec = rule.spec
        site = record.site
        where = f"{site.file}::{site.function}" if site else "?"
        key_text = spec.key.text if spec.key else None
        rule_line = f"rule: {spec.describe_rule()} (manager {spec.name!r}, {spec.where})"
        cls_name = record.cls.__qualname__
        if violation.check == DUPLICATE:
            everyone = [*violation.others, record]
            total = len(everyone)
            if key_text is not None:
                summary = (
                    f"{spec.name}: {total} live instances for {record.describe_key(key_text)}, "
                    f"at most {spec.max} allowed"
                )
                fingerprint = f"{DUPLICATE}: {spec.name} key={record.key!r} at {where}"
            else:
                if spec.scope == PROCESS:
                    window = "in the process"
                elif record.window[0] == "test":
                    window = "in this test"
                else:
                    window = "outside the tests (shared by all of them)"
                summary = (
                    f"{spec.name}: {total} live instances {window}, at most {spec.max} allowed"
                )
                fingerprint = f"{DUPLICATE}: {spec.name} at {where}"
            lines = [rule_line, ""]
            numbered = list(enumerate(everyone, start=1))
            shown = numbered if total <= 6 else [*numbered[:2], *numbered[-3:]]
            for index, record_shown in shown:
                lines.extend(_render_record(record_shown, index, total, record_shown is record))
            if len(shown) < total:
                lines.append(f"  ... and {total - len(shown)} more")
            if rule.untrackable and any(r.counted_by_construction for r in everyone):
                lines.append(
                    f"  ({', '.join(sorted(map(_qualified, rule.untrackable)))} does not support "
                    "weak references: "
                    "its instances are counted by construction, garbage collected or not)"
                )
            todo = spec.guidance or (
                "get the instance from "
                + " or ".join(f"{f.short}()" for f in spec.factories)
                + " instead of constructing another one"
                if spec.factories
                else "reuse the live instance instead of creating another one"
            )
        else:
            bypassed = " or ".join(f.short for f in spec.factories)
            calls = " or ".join(f"{f.short}()" for f in spec.factories)
            function = site.function if site else "?"
            summary = (
                f"{spec.name}: {cls_name} constructed directly in {function}, bypassing {bypassed}"
            )
            fingerprint = f"{BYPASS}: {spec.name} at {where}"
            lines = [rule_line, "", *_render_record(record, 1, 1, True, numbered=False)]
            todo = spec.guidance or f"call {calls} instead of constructing {cls_name}"
        lines.extend(["", f"What to do: {todo}."])
        return Finding(
            check=violation.check,
            rule=spec.name,
            summary=summary,
            details="\n".join(lines),
            phase=record.phase,
            fingerprint=fingerprint,
            file=site.file if site else None,
            line=site.line if site else None,
        )


def _by_seq(raw: _Raw) -> int:
    return int(raw[_SEQ])


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _render_record(
    record: InstanceRecord, index: int, total: int, this: bool, *, numbered: bool = True
) -> list[str]:
    label = f"instance {index} of {total}" if numbered else "instance"
    if this and numbered:
        label += " (this one)"
    key = ""
    if record.key is not None or record.key_note:
        key = f", key {record.key!r}" + (f" ({record.key_note})" if record.key_note else "")
    lines = [
        f"{label}: {record.cls.__qualname__}{key}, created during {record.phase.describe()}",
    ]
    stack = record.stack()
    for position, site in enumerate(stack):
        lines.append(f"    {site.render()}")
        if position == 0:
            source = site.source()
            if source:
                lines.append(f"        {source}")
    if not stack:
        lines.append("    (no Python frame: created by the interpreter)")
    return lines
