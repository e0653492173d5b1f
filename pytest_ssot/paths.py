"""How a file is shown to the user, and whether it is the project's.

- ``display_path``: a path relative to the rootdir, with forward slashes. Every message,
  node id and report names files through it.
- ``ProjectFiles``: the one rule for "is this project code" (and "is this a test file"),
  which the runtime checks apply to frames, classes and loaded modules.

Plain string work on ``os.path`` (no pathlib objects, no symlink resolution): the runtime
checks call it for frames and for every module in ``sys.modules``.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import Literal

DEFAULT_TEST_PATTERNS = ("test_*.py", "*_test.py")
"""pytest's default ``python_files``."""

_OWN = Path(__file__).parent
OWN_FOLDERS = tuple(sorted({os.path.abspath(_OWN), str(_OWN.resolve())}))  # noqa: PTH100
"""pytest-ssot's own package folder (as imported and as resolved): never project code."""

_LIBRARY_PARTS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


def display_path(
    path: str | os.PathLike[str],
    rootdir: str | os.PathLike[str],
    *,
    outside: Literal["relative", "as-given"] = "relative",
) -> str:
    """``path`` as users see it: relative to the rootdir, with forward slashes.

    Outside the rootdir, ``"relative"`` climbs with ``..`` as pytest's node ids do (the
    files a user names: contract files, the baseline, reports); ``"as-given"`` keeps the
    path as it came (source files of installed packages in runtime findings, where
    ``../../usr/lib/...`` would help nobody). The rootdir itself is ``"."``.
    """
    given = os.fspath(path)
    absolute = os.path.abspath(given)  # noqa: PTH100
    root = os.path.abspath(rootdir)  # noqa: PTH100
    if absolute == root:
        return "."
    if is_under(absolute, (root,)):
        return absolute[len(root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
    if outside == "as-given":
        return given
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        relative = given
    return relative.replace(os.sep, "/")


def is_under(path: str, folders: Iterable[str]) -> bool:
    """``path`` is one of ``folders`` or inside one (absolute, normalised strings)."""
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _library_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(sorted({os.path.abspath(d) for d in dirs}))  # noqa: PTH100


class ProjectFiles:
    """Which files are the project's, and which of those are test files.

    Project code: a file inside a root package's folder, wherever it is installed (a
    wheel in site-packages is still the project); otherwise a file inside the rootdir
    that is not in an installed or standard library (``site-packages``,
    ``dist-packages``, the interpreter's library folders: a virtualenv inside the
    project is not the project). pytest-ssot's own files never are.

    Answers are cached per file name: frames and modules repeat.
    """

    def __init__(
        self,
        rootdir: str | os.PathLike[str],
        root_folders: Iterable[str] = (),
        *,
        excluded: Sequence[str] | None = None,
        test_patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    ) -> None:
        self.rootdir = os.path.abspath(rootdir)  # noqa: PTH100
        # Frames name files as they were imported: through the rootdir or its real path.
        self._rootdirs = tuple({self.rootdir, os.path.realpath(rootdir)})
        self.root_folders = tuple(os.path.abspath(f) for f in root_folders)  # noqa: PTH100
        base = _library_folders() if excluded is None else excluded
        # A library folder that holds a root package stays searchable for it.
        self.excluded = tuple(
            folder
            for folder in (os.path.abspath(p) for p in base)  # noqa: PTH100
            if not any(is_under(root, (folder,)) for root in self.root_folders)
        )
        self.test_patterns = tuple(test_patterns)
        self._project: dict[str, bool] = {}
        self._tests: dict[str, bool] = {}

    def is_project(self, filename: str) -> bool:
        """``filename`` (a code object's, a module's ``__file__``) is project code."""
        known = self._project.get(filename)
        if known is None:
            known = self._project[filename] = self._judge(os.path.abspath(filename))  # noqa: PTH100
        return known

    def _judge(self, path: str) -> bool:
        if is_under(path, OWN_FOLDERS):
            return False
        if is_under(path, self.root_folders):
            return True
        if is_under(path, self.excluded) or any(part in path for part in _LIBRARY_PARTS):
            return False
        return is_under(path, self._rootdirs)

    def is_test_file(self, filename: str) -> bool:
        """A ``conftest.py`` or a file that pytest's ``python_files`` patterns collect."""
        known = self._tests.get(filename)
        if known is None:
            name = os.path.basename(filename)  # noqa: PTH119
            known = name == "conftest.py" or any(
                fnmatch(filename if "/" in pattern else name, pattern)
                for pattern in self.test_patterns
            )
            self._tests[filename] = known
        return known
