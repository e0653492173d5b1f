"""Static checking: each contract checked once per run, each graph built at most once.

All contracts that share a graph (same root packages, include_external_packages,
exclude_type_checking_imports) are checked together, lazily, when the first of
their items runs; each on its own copy of the graph and in its own ``try``, so a
contract that cannot be checked never hides the others.

Results are cached on disk, keyed by everything they depend on: the plugin and
library versions, the contracts' options and the size and times of every source
file under the root packages. When nothing changed, the next run reuses them
without importing import-linter or grimp. A file lock around the cache makes
pytest-xdist workers and concurrent runs take turns: the first one checks, the
others read what it wrote (grimp's own cache writes are not atomic either).

One job per module, top to bottom (the ``checking-layers`` contract):

- ``checker``: ``StaticChecker``, what the session, the items and the fixer talk to;
  it checks one group of contracts, from the cache or anew.
- ``contracts``: each contract checked on its graph (or a copy with imports added),
  its violations located in rootdir-relative files.
- ``stored``: the results kept between runs: served, re-lined after edits that kept
  every import, written, and the fixer's what-if answers.
- ``graphs``: one graph per option set, built once, plus the modules loaded by name.
- ``cache_files``: the cache folder's files per option set, and its lock.
- ``source_state``: everything a group's results depend on, as a fingerprint.
- ``options``: the per-contract settings the checks and the cache keys read.
"""

from pytest_ssot.checking.cache_files import usable_cache_root
from pytest_ssot.checking.checker import StaticChecker

__all__ = ["StaticChecker", "usable_cache_root"]
