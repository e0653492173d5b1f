"""Reading and writing our files so that nothing is lost or damaged.

Every file pytest-ssot writes (baseline, JSON and HTML reports, history, result
cache) goes through :func:`write_atomic`: a reader sees the old file or the new
one, never half; a symlink stays a symlink (its target is replaced, in the
target's folder); a path that exists and is not a regular file (a device, a
FIFO, a socket, a folder) is refused, never replaced. :func:`locked` serialises
read-modify-write cycles between concurrent runs, and :func:`read_json` reads
inputs with a size and a nesting limit (documented in docs/promises.md).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pytest_ssot.model import SsotError

MAX_READ_BYTES = 64 * 1024 * 1024
"""The largest baseline, history or JSON input we read (64 MiB)."""
MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a JSON input may have."""
LOCK_TIMEOUT = 120.0
"""Seconds to wait for another run's lock on a file before giving up."""


class FileError(SsotError):
    """A file cannot be read or written; the message names it and says why."""


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def target_of(path: Path) -> Path:
    """Where writing ``path`` really goes: symlinks (also dangling ones) followed."""
    return Path(os.path.realpath(path))


_PSEUDO_FOLDERS = ("/dev/", "/proc/")


def _process_stream(path: Path) -> str | None:
    """The /dev or /proc entry that ``path`` is or leads to through its links, if any.

    ``/dev/stdout`` resolves to whatever standard output is (a log file, a pipe): our
    atomic replace would put a new file in that log's place, or fail on the pipe, at the
    end of the run. Such paths are refused before the run instead.
    """
    current = os.path.abspath(path)  # noqa: PTH100  (a string, link by link)
    for _ in range(40):  # the kernel's own limit on links in a row
        if current.startswith(_PSEUDO_FOLDERS):
            return current
        try:
            link = os.readlink(current)  # noqa: PTH115  (a string, link by link)
        except OSError:
            return None  # not a link (or gone): the end of the chain
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))  # noqa: PTH118, PTH120
    return None


def output_problem(path: Path, show: Callable[[Path], str] = str) -> str | None:
    """Why ``path`` cannot be written as a regular file, or None when it can be (checked early).

    ``show`` turns a path into the words of the message (relative to the rootdir).
    """
    stream = _process_stream(path)
    if stream is not None:
        return (
            f"it leads to {stream}, a stream of this process (standard output, a pipe, a "
            "descriptor), not a file: writing it would replace whatever file the stream goes to"
        )
    target = target_of(path)
    try:
        mode = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        return exc.strerror or str(exc)
    if mode is not None and not stat.S_ISREG(mode):
        return f"it is {kind_of(mode)}, not a regular file"
    for parent in target.parents:
        try:
            parent_mode = parent.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return exc.strerror or str(exc)
        if not stat.S_ISDIR(parent_mode):
            what = "a file" if stat.S_ISREG(parent_mode) else kind_of(parent_mode)
            return f"{show(parent)} is {what}, not a directory"
        if not os.access(parent, os.W_OK | os.X_OK):
            # The file is written beside itself and renamed into place: its folder must
            # take a new file (a read-only checkout, a read-only mount).
            shown = show(parent)
            folder = str(parent) if shown in ("", ".") else shown
            return f"permission denied: this process cannot create files in {folder}"
        break
    return None


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` (or a symlink's target) by ``text``, through a temporary file and a rename.

    Raises :class:`FileError` when the target exists and is not a regular file,
    and ``OSError`` when writing fails; the old file is then untouched.
    """
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """:func:`write_atomic` for bytes written as they are (a source file keeps its encoding,
    byte-order mark and line endings)."""
    target = target_of(path)
    problem = output_problem(target)
    if problem is not None:
        raise FileError(problem)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        tmp.chmod(mode)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of ``path`` (across processes).

    The lock is taken on the folder that holds the file (its symlink target's
    folder), so it survives the rename of an atomic write and leaves no lock
    file behind. On systems without ``fcntl`` a lock file beside it is used.
    """
    folder = target_of(path).parent
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":  # pragma: no cover - no fcntl there
        with _lock_file(folder / f".{path.name}.lock", timeout):
            yield
        return
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() > deadline:
                    raise FileError(
                        f"another run has held the lock on {folder} for {timeout:.0f} s"
                    ) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _lock_file(lock: Path, timeout: float) -> Iterator[None]:  # pragma: no cover - Windows
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise FileError(f"{lock} has been held for {timeout:.0f} s") from None
            time.sleep(0.02)
    try:
        yield
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            lock.unlink()


def read_text(path: Path, *, limit: int = MAX_READ_BYTES) -> str | None:
    """The UTF-8 text of ``path``, or None when it does not exist.

    Raises :class:`FileError` for anything but a regular file, a file larger than
    ``limit`` bytes, or text that is not UTF-8; never blocks on a FIFO.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO with no writer
            raise FileError(f"it is {kind_of(path.stat().st_mode)}, not a regular file") from None
        raise FileError(exc.strerror or str(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileError(f"it is {kind_of(mode)}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileError(f"it is larger than {limit // (1024 * 1024)} MiB, the most we read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"it is not UTF-8 text ({exc.reason})") from None


def loads(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth``.

    Raises ``json.JSONDecodeError`` for invalid JSON and :class:`FileError` for
    too deep a nesting (which would otherwise end in a ``RecursionError``).
    """
    too_deep = FileError(f"its JSON is nested more than {max_depth} levels deep")
    try:
        data = json.loads(text)
    except RecursionError:
        raise too_deep from None
    if _depth(data) > max_depth:
        raise too_deep
    return data


def _depth(data: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def write_atomic_batch(files: Sequence[tuple[Path, bytes]]) -> dict[Path, str]:
    """:func:`write_atomic_bytes` for many files at once, with one flush to disk for all.

    Each file is still replaced by a rename (a reader sees the old file or the new one);
    the contents are staged in temporary files, renamed over the files, then flushed to
    disk together (one ``os.sync`` instead of one ``fsync`` per file, which dominates
    rewriting hundreds of small files).
    Returns the files that could not be written, with why; the others are written.
    """
    failed: dict[Path, str] = {}
    staged: list[tuple[Path, Path, Path]] = []
    try:
        for path, data in files:
            target = target_of(path)
            problem = output_problem(target)
            if problem is not None:
                failed[path] = problem
                continue
            try:
                fd, name = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
                )
                tmp = Path(name)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                try:
                    mode = stat.S_IMODE(target.stat().st_mode)
                except FileNotFoundError:
                    mode = 0o644
                tmp.chmod(mode)
            except OSError as exc:
                failed[path] = exc.strerror or str(exc)
                continue
            staged.append((tmp, target, path))
        if not hasattr(os, "sync"):  # pragma: no cover - Windows: one fsync per file
            for tmp, _, _ in staged:
                with tmp.open("rb+") as handle:
                    os.fsync(handle.fileno())
        while staged:
            tmp, target, path = staged[0]
            try:
                tmp.replace(target)
            except OSError as exc:
                failed[path] = exc.strerror or str(exc)
                with contextlib.suppress(OSError):
                    tmp.unlink()
            staged.pop(0)
        if hasattr(os, "sync"):
            # One flush for all, after the renames: a rename over a file is fast before it
            # (3-4 ms each after a sync, measured on ext4), and a reader sees the old file
            # or the new one either way; ext4 writes a replaced file's data with the rename.
            os.sync()
    finally:
        for tmp, _, _ in staged:  # interrupted: no temporary file is left behind
            with contextlib.suppress(OSError):
                tmp.unlink()
    return failed
