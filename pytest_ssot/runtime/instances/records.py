"""One counted instance: the record kept per construction, and its readable view."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from types import CodeType
from typing import Any, NamedTuple

from pytest_ssot.model import Phase
from pytest_ssot.paths import ProjectFiles, display_path
from pytest_ssot.runtime.instances.sites import SHOWN_FRAMES, Site, line_of

Raw = tuple[Any, ...]
"""An InstanceRecord's fields in a plain tuple: what the hot path makes and stores."""
KEY = 2
"""Index of the key in a Raw record."""
REF = 6
"""Index of the weak reference in a Raw record."""
SEQ = 7
"""Index of the construction sequence number in a Raw record."""


class ClassRef:
    """A class, weakly held, with the names it is shown by.

    The tracker never holds a class strongly: ``unittest.mock`` makes a class per
    mock that points back at the mock, so a strong reference to the class would
    keep the mock alive for the whole run.
    """

    __slots__ = ("module", "path", "qualname", "ref")

    def __init__(self, cls: type, gone: Callable[[weakref.ref[type]], Any] | None = None) -> None:
        self.ref = weakref.ref(cls, gone)
        self.module: str = cls.__module__
        self.qualname: str = cls.__qualname__
        self.path = f"{self.module}:{self.qualname}"
        """``module:qualname``: what tells two classes of one name apart."""

    def __call__(self) -> type | None:
        return self.ref()

    def __repr__(self) -> str:
        return f"<ClassRef {self.path}>"


class InstanceRecord(NamedTuple):
    """One instance of a managed class, as counted for one manager.

    A named tuple: made for every construction, so it must be cheap to make.
    """

    manager: str
    kind: ClassRef
    """The instance's class, weakly held (``cls`` gives the class itself)."""
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
    files: ProjectFiles

    @property
    def cls(self) -> type | None:
        """The instance's class; None once it has been garbage collected."""
        return self.kind()

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
        line = line_of(code, self.frames[index + 1])
        shown = display_path(code.co_filename, self.files.rootdir, outside="as-given")
        return Site(shown, line, code.co_name, code.co_filename)

    @property
    def site(self) -> Site | None:
        """The frame that constructed the instance."""
        return self._site_at(0) if self.frames else None

    def stack(self) -> list[Site]:
        """The creation site and the project frames that led to it, innermost first."""
        shown: list[Site] = []
        for index in range(0, len(self.frames), 2):
            code: CodeType = self.frames[index]
            if index == 0 or self.files.is_project(code.co_filename):
                shown.append(self._site_at(index))
            if len(shown) >= SHOWN_FRAMES:
                break
        return shown

    def describe_key(self, key_text: str | None) -> str:
        if key_text is None:
            return ""
        text = f"{key_text}={self.key!r}"
        return f"{text} ({self.key_note})" if self.key_note else text

    def __repr__(self) -> str:  # the frames and files are noise
        site = self.site
        where = site.render() if site else "?"
        name = self.kind.qualname
        return f"<InstanceRecord {self.manager} {name} key={self.key!r} at {where}>"


def by_seq(raw: Raw) -> int:
    return int(raw[SEQ])


class LiveInstance(NamedTuple):
    """One live instance of a manager, as enumerated by ``InstanceTracker.live_instances``.

    Holds the instance strongly: use it and let it go, do not keep it.
    """

    instance: Any
    key: Hashable
    """The key read when it was constructed (None without a ``key`` declaration)."""
    record: InstanceRecord
