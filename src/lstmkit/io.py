"""Safe outputs: atomic files and folders, strict JSON, output checks, and locks.

Atomic writes
    Every writer goes to a temporary file in the destination folder (same
    file system) and renames it over the target only once it is complete, so
    a crash or a failed run never leaves a half-written file. Temporary names
    are ``.<name>.<pid>-<random>.tmp``: the writer's process id in the name
    lets a later writer in the same folder recognise and remove the leftovers
    of a killed process (:func:`clean_stale_temporaries`).

Permissions
    Written files get ``0666 & ~umask`` and folders ``0777 & ~umask`` (0644 /
    0755 with the usual umask 022), as ``open`` and ``mkdir`` would give;
    ``tempfile.mkstemp`` / ``mkdtemp`` alone would leave 0600 / 0700.

Strict JSON
    :func:`dumps_json` never writes the bare ``NaN`` / ``Infinity`` tokens that
    Python's ``json`` emits by default (they are not JSON and most readers
    reject them): non-finite floats become ``null``.

Output checks
    :func:`check_output_path` says, before any work starts, whether a file or
    a folder can be written at a path, so a long run never fails at its end.

Locks
    :func:`exclusive_lock` takes an advisory ``flock`` on a lock file, without
    waiting: a second process gets a one-line :class:`BusyError`. The kernel
    drops the lock when its process dies, so a killed run never leaves a
    stale lock behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere the locks are no-ops (documented in docs/reliability.md)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class BusyError(ValueError):
    """Another process holds the lock of a run folder or an output (one-line message)."""


class OutputPathError(ValueError):
    """An output path cannot be written as asked (one-line message)."""


# --------------------------------------------------------------------------- permissions
def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    status = Path("/proc/self/status")
    if status.is_file():  # Linux: no window in which another thread sees a changed umask
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new regular file gets: ``0o666 & ~umask``."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """The mode a new folder gets: ``0o777 & ~umask``."""
    return 0o777 & ~_umask()


# --------------------------------------------------------------------------- temporaries
_TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")


def temporary_name(target: str | os.PathLike) -> Path:
    """A fresh temporary sibling of ``target``: ``.<name>.<pid>-<random>.tmp`` (not created)."""
    target = Path(target)
    return target.parent / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_path(path: str | os.PathLike) -> None:
    """Remove a file, a link or a folder tree at ``path``; a missing path is fine."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def clean_stale_temporaries(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove ``.<name>.<pid>-<random>.tmp`` entries of ``folder`` whose process is gone.

    ``name``: only the temporaries of that target name. Temporaries of a
    living process (this one included) are kept. Returns what was removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP_PATTERN.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        if _pid_alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):  # another cleaner got there first
            remove_path(entry)
            removed.append(entry)
    return removed


# --------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed over ``path``."""
    target = Path(path)
    check_output_path(target, kind="file")
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target.parent, target.name)
    tmp = temporary_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, file_mode())  # a writer may have recreated it
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
    return Path(path)


def _finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (at any depth) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """``json`` ``default``: NumPy / torch scalars and arrays, paths; anything else is an error."""
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars, tensors
        return _finite_or_none(value.tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        raise TypeError(f"sets are not JSON-serializable (their order is lost), got {value!r}")
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def dumps_json(obj: Any, **dump_kw: Any) -> str:
    """``json.dumps`` that writes strict JSON: non-finite floats become ``null``.

    NumPy / torch scalars and arrays become numbers and lists (their
    non-finite values ``null`` too); ``allow_nan=False`` is enforced, so no
    ``NaN`` / ``Infinity`` token can reach a file.

    >>> dumps_json({"a": float("nan"), "b": [1.5, float("inf")]})
    '{"a": null, "b": [1.5, null]}'
    """
    dump_kw.pop("allow_nan", None)
    dump_kw.setdefault("default", _plain)
    return json.dumps(_finite_or_none(obj), allow_nan=False, **dump_kw)


def atomic_write_json(path: str | os.PathLike, obj: Any, **dump_kw: Any) -> Path:
    """Write ``obj`` as indented strict JSON (see :func:`dumps_json`) atomically."""
    dump_kw.setdefault("indent", 2)
    return atomic_write_text(path, dumps_json(obj, **dump_kw) + "\n")


def atomic_savefig(fig: Any, path: str | os.PathLike, **savefig_kw: Any) -> Path:
    """Save a matplotlib figure atomically (PNG unless ``format`` says otherwise)."""
    savefig_kw.setdefault("format", Path(path).suffix.lstrip(".") or "png")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **savefig_kw)
    return Path(path)


def make_temporary_dir(target: str | os.PathLike) -> Path:
    """Create an empty temporary sibling folder of ``target`` with the usual mode."""
    tmp = temporary_name(target)
    tmp.mkdir(mode=0o777)  # the umask applies: 0755 with umask 022
    return tmp


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder; on success its files move into ``path`` (created if needed).

    On an exception the temporary folder is removed and ``path`` is left as it was.
    Each file is moved with ``os.replace``, so a reader never sees a partial file;
    files of ``path`` that the new output does not contain are kept.
    """
    path = Path(path)
    check_output_path(path, kind="dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path.parent, path.name)
    tmp = make_temporary_dir(path)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not path.exists():
        os.replace(tmp, path)
        return
    for item in sorted(tmp.rglob("*")):
        target = path / item.relative_to(tmp)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(item, target)
    shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- output checks
def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and not current.is_symlink():
        if current.parent == current:
            break
        current = current.parent
    return current


def check_output_path(
    path: str | os.PathLike, kind: str = "file", what: str = "output", replaces: bool = False
) -> Path:
    """Check that a ``kind`` (``"file"`` or ``"dir"``) can be written at ``path``; return it.

    Refused with :class:`OutputPathError` (one line): an existing folder where
    a file is meant, an existing file where a folder is meant, a parent that
    is a file, a folder that is not writable, and, for a folder that the
    writer ``replaces`` as a whole, the current directory or one of its
    ancestors (a process cannot swap out its own working directory). Nothing is
    created. Whether an existing folder may be replaced is the writer's
    business (see :func:`lstmkit.train.saved.check_model_target`).
    """
    if kind not in ("file", "dir"):
        raise ValueError(f"kind: expected 'file' or 'dir', got {kind!r}")
    if path is None or str(path) == "":
        raise OutputPathError(f"{what}: expected a path, got {path!r}")
    target = Path(path)
    if target.exists() or target.is_symlink():
        if kind == "file" and target.is_dir():
            raise OutputPathError(f"{what} '{target}' is a directory; expected a file path")
        if kind == "dir" and not target.is_dir():
            raise OutputPathError(f"{what} '{target}' exists and is not a directory")
    if kind == "dir" and replaces:
        resolved, here = target.resolve(), Path.cwd().resolve()
        if resolved == here or resolved in here.parents:
            raise OutputPathError(
                f"{what} '{target}' is the current directory or one of its parents; "
                "name a new or dedicated directory"
            )
    existing = _nearest_existing(target.parent if target.name else target)
    if not existing.is_dir():
        raise OutputPathError(f"{what} '{target}': '{existing}' is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what} '{target}': directory '{existing}' is not writable")
    return target


# --------------------------------------------------------------------------- locks
@contextlib.contextmanager
def exclusive_lock(lock_file: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_file`` (created, removed on release).

    Does not wait: if another process holds it, :class:`BusyError` names
    ``what`` and the holder's process id. The kernel releases the lock when
    its process dies, so a lock file left by a killed process is taken over.
    The file records the holder's pid; after locking, the path must still name
    the locked file (another holder may have removed and recreated it), else
    the attempt is repeated.
    """
    lock_file = Path(lock_file)
    if fcntl is None:  # pragma: no cover - no advisory locks here
        yield
        return
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise BusyError(f"{what} is in use by another lstmkit process (pid {holder}); "
                            "wait for it to finish") from None
        try:
            same = os.stat(lock_file).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed it between our open and lock: try again
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock_file.unlink()
        os.close(fd)


__all__ = [
    "BusyError",
    "OutputPathError",
    "atomic_dir",
    "atomic_path",
    "atomic_savefig",
    "atomic_write_json",
    "atomic_write_text",
    "check_output_path",
    "clean_stale_temporaries",
    "dir_mode",
    "dumps_json",
    "exclusive_lock",
    "file_mode",
    "make_temporary_dir",
    "remove_path",
    "temporary_name",
]
