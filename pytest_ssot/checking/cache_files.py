"""The cache folder of static checking: its files per option set, and the lock around them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pytest_ssot.fileio import FileError, write_atomic
from pytest_ssot.model import ContractSpec, GraphKey
from pytest_ssot.result_cache import read_json_object

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock, still correct per process
    fcntl = None  # type: ignore[assignment]


class CacheFiles:
    """Where the results, the index, the fixer's answers and grimp's cache live per ``GraphKey``.

    ``root`` is None when there is no usable cache folder; ``use_results`` is False when
    stored results must not be used (grimp's cache is still kept then).
    Both turn off for good when the folder stops being writable during the run.
    """

    def __init__(self, root: Path | None, use_results: bool) -> None:
        self.root = root
        self.use_results = use_results and root is not None

    def results(self, key: GraphKey) -> Path:
        return self._file("results", key)

    def checks(self, key: GraphKey) -> Path:
        return self._file("checks", key)

    def index(self, key: GraphKey) -> Path:
        return self._file("index", key)

    def _file(self, kind: str, key: GraphKey) -> Path:
        assert self.root is not None
        return self.root / f"{kind}-{key_hash(key)}.json"

    def grimp_dir(self, key: GraphKey) -> Path | None:
        """A grimp cache folder per option set: grimp's cache must not be shared between them."""
        if self.root is None:
            return None
        return self.root / f"grimp-{key_hash(key)}"

    def derived(self, kind: str, specs: Sequence[ContractSpec]) -> Path | None:
        """A file for something derived from ``specs``' results."""
        if self.root is None or not self.use_results:
            return None
        names = "\n".join(sorted(spec.id for spec in specs))
        return self.root / f"{kind}-{hashlib.sha256(names.encode()).hexdigest()[:16]}.json"

    @contextlib.contextmanager
    def locked(self, key: GraphKey) -> Iterator[None]:
        """Runs and pytest-xdist workers take turns on one option set's files."""
        if self.root is None or fcntl is None:
            yield
            return
        lock_path = self.root / f"lock-{key_hash(key)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = lock_path.open("a")
        except OSError:
            # The folder was usable at start-up (usable_cache_root) and is not now:
            # go on without the caches rather than fail the contracts.
            self.root = None
            self.use_results = False
            yield
            return
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def source_facts(self) -> Iterator[None]:
        """What the SSOT contract types and the fixer read from each file, stored between
        runs (``facts.json``, keyed per file by its stat line, as the fingerprint): after
        one edit, only that file is read again. Written atomically; two runs writing at
        once lose each other's news, never correctness. Within, the files are taken to stay
        put (``SourceCache.one_run``): each is looked at once, one module-to-file map serves
        every contract.
        """
        from pytest_ssot.contract_types._source_index import CACHE

        with CACHE.one_run():
            if self.root is None or not self.use_results:
                yield
                return
            path = self.root / "facts.json"
            CACHE.load_stored(read_json_object(path))
            try:
                yield
            finally:
                if CACHE.changed:
                    with contextlib.suppress(OSError, FileError):  # costs speed only
                        write_atomic(path, json.dumps(CACHE.stored_data()))


def key_hash(key: GraphKey) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def usable_cache_root(make: Callable[[], Path]) -> tuple[Path | None, str | None]:
    """The folder for the result and graph caches, or None and why it cannot be used.

    ``make`` creates it (pytest's ``cache.mkdir``), which fails when ``.pytest_cache``
    is a file or the checkout is read-only. Files already in it must be writable too:
    the lock is opened for appending and grimp rewrites its files in place.
    """
    try:
        root = make()
        fd, probe = tempfile.mkstemp(dir=root, prefix=".probe-")
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        return None, _os_reason(exc)
    try:
        with os.scandir(root) as scan:
            entries = list(scan)
        for entry in entries:
            inner = [entry]
            if entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as scan:
                    inner += list(scan)
            for item in inner:
                if not os.access(item.path, os.W_OK):
                    return None, f"{item.path} is read-only"
    except OSError as exc:
        return None, _os_reason(exc)
    return root, None


def _os_reason(exc: OSError) -> str:
    # pytest creates its cache folder as a temporary folder renamed into place: name
    # the place (filename2), or the folder it could not write in, not the temporary.
    where = str(exc.filename2 or exc.filename or "")
    if Path(where).name.startswith(("pytest-cache-files-", ".probe-")):
        where = f"cannot write in {Path(where).parent}"
    return f"{where}: {exc.strerror}" if where and exc.strerror else str(exc)
