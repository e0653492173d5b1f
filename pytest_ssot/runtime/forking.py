"""The runtime checks in a process forked from the test run: they stand down.

A child made with ``os.fork`` (``multiprocessing`` with the ``fork`` start method)
inherits the wrapped constructors, the import watcher and their locks, but its
findings could never reach the parent's reports. Worse, a lock that another thread
held at the moment of the fork stays held forever in the child, so the child's
next tracked construction or watched import would hang. After a fork, in the child
only, every registered object is told to stand down (``forked``): it stops counting
and watching and replaces its locks. The parent is unaffected.

``os.register_at_fork`` cannot be undone, so one callback is registered per process,
the first time it is needed; it acts on the objects registered (weakly) at that time
and does nothing once they are gone.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol


class StandsDown(Protocol):
    def forked(self) -> None:
        """Called in a forked child: stop watching, replace the locks. Must not block."""


_watching: weakref.WeakSet[StandsDown] = weakref.WeakSet()
_registered = False
_lock = threading.Lock()


def stand_down_in_children(obj: StandsDown) -> None:
    """Tell ``obj`` when the process forks, in the child (until ``forget``)."""
    global _registered
    with _lock:
        _watching.add(obj)
        if not _registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _registered = True


def forget(obj: StandsDown) -> None:
    with _lock:
        _watching.discard(obj)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # it may have been held by another thread at the fork
    for obj in list(_watching):
        obj.forked()
    _watching.clear()
