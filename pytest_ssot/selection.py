"""Which contracts a run checks, from the paths and node ids on the command line.

pytest collects only what it is given; CI that runs ``pytest tests/`` must still
check the contracts. The rules (documented in docs/configuration.md):

- no path on the command line (``testpaths`` or the current directory): every
  contract;
- a folder among the paths (``pytest tests/``, ``pytest .``): every contract, as
  a folder stands for "the suite";
- contract files or contract node ids (``contracts/ssot.toml``,
  ``contracts/ssot.toml::ws-unique-definition``, ``pyproject.toml::layers``):
  only those, collected by pytest like test files; tests named beside them run
  too;
- only test files or test node ids (``tests/test_api.py::test_one``): no
  contract runs, and not silently: the contracts are *deselected*, so pytest's
  final line counts them and the header says why.

Pure: no pytest import, so it is tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ALL = "all"
NAMED = "named"
NONE = "none"


@dataclass(frozen=True)
class Selection:
    """Which contracts this run checks, decided once from the command line.

    Made by ``decide``; the session reads it to collect all contract items, only
    those of the contract files named, or none (only tests were named).
    """

    mode: str
    """``all`` contracts, only the ``named`` sources, or ``none`` (deselected)."""
    named: frozenset[Path] = frozenset()
    """The contract sources given on the command line (resolved paths)."""
    given: tuple[str, ...] = ()
    """With ``none``: the test paths and node ids that were given, for the header line."""


def _path_part(arg: str) -> str:
    return arg.split("::", 1)[0]


def decide(
    args: Sequence[str],
    *,
    explicit: bool,
    invocation_dir: Path,
    sources: Iterable[Path],
    pyargs: bool = False,
) -> Selection:
    """The selection for ``args`` (pytest's ``config.args``).

    ``explicit``: the args were typed on the command line (not ``testpaths`` or
    the current directory). ``sources``: every contract source of the run.
    """
    if not explicit or not args:
        return Selection(ALL)
    by_path = {_resolve(p): p for p in sources}
    named: set[Path] = set()
    tests: list[str] = []
    folder = False
    for arg in args:
        part = _path_part(arg)
        path = _resolve(invocation_dir / part)
        if path in by_path:
            named.add(by_path[path])
        elif path.is_dir():
            folder = True
        elif pyargs and not path.exists():
            folder = True  # a package name under --pyargs: a folder of tests
        else:
            tests.append(arg)
    if folder:
        return Selection(ALL, frozenset(named))
    if named:
        return Selection(NAMED, frozenset(named))
    return Selection(NONE, given=tuple(tests))


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
