"""Putting the rootdir on ``sys.path`` for a moment, and taking it off again.

lint-imports inserts the current directory into ``sys.path`` and leaves it there;
we need the same to find root packages and contract types, but restore the list.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def importable_from(folder: Path | str) -> Iterator[None]:
    """Put ``folder`` first on ``sys.path`` for the duration (as lint-imports puts the
    current directory first), wherever else it may stand; the entry added is removed
    afterwards, so the list is as it was."""
    entry = str(folder)
    added = not sys.path or sys.path[0] != entry
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):  # someone else removed it meanwhile
                sys.path.remove(entry)  # the first occurrence: the one added above
