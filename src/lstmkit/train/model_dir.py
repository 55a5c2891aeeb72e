"""Where a saved model may be written, and how an old one is replaced without a gap.

Ownership
    ``save_model`` replaces an existing directory only when it is a complete
    lstmkit saved model: a parsable ``config.json`` with an integer
    ``format_version`` and a string ``task``, a ``model.safetensors``, and
    nothing else. Any other non-empty directory (a project folder that happens
    to hold a ``config.json``, the current directory, a symbolic link) is
    refused with one line, so ``--out`` never deletes what it does not own.
    :func:`check_model_target` makes that check *before* a fit starts.

Replacing (crash safety)
    The new model is written complete into a temporary sibling
    ``.<name>.<pid>-<random>.tmp``. Then, on Linux, ``renameat2`` with
    ``RENAME_EXCHANGE`` swaps the two directories in one atomic step (the old
    model ends in the temporary name and is removed). Where the exchange is
    not available, two renames are used: ``<name>`` -> ``.<name>.old-<pid>-<random>``,
    then the temporary -> ``<name>``. A crash between them leaves the old model
    under the ``.old-`` name; the next ``save_model`` or ``load_model`` of that
    path renames it back (:func:`recover`). So at every instant the path holds
    the old model, the new one, or (only in that window of the fallback) a
    recoverable old one.

Concurrency
    Writers of one path take an exclusive lock on the sibling ``.<name>.lock``
    (see :func:`lstmkit.io.exclusive_lock`); a second writer fails at once
    with one line, and no ``.old-`` or temporary folders are left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from lstmkit.io import (
    BusyError,
    OutputPathError,
    check_output_path,
    clean_stale_temporaries,
    exclusive_lock,
    remove_path,
)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MODEL_FILES = frozenset({CONFIG_FILE, WEIGHTS_FILE})
#: the manifest of a group of saved models (e.g. a tagger ensemble): ``{"format_version": int,
#: "task": str, "members": [names]}`` beside one saved-model directory per member
GROUP_MANIFEST = "ensemble.json"


def _group_reason(path: Path, names: list[str]) -> str | None:
    """Why ``path`` is not a complete group of saved models (``None``: it is one)."""
    try:
        manifest = json.loads((path / GROUP_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return f"{GROUP_MANIFEST} is not valid JSON"
    members = manifest.get("members") if isinstance(manifest, dict) else None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if isinstance(version, bool) or not isinstance(version, int) or not isinstance(members, list):
        return f"{GROUP_MANIFEST} is not an lstmkit manifest"
    extra = [n for n in names if n != GROUP_MANIFEST and n not in members]
    if extra:
        return f"it also holds {extra[0]!r}"
    for member in members:
        if not isinstance(member, str) or not (path / member).is_dir() or (path / member).is_symlink():
            return f"member {member!r} is missing"
        reason = not_a_model_reason(path / member)
        if reason is not None:
            return f"member {member!r}: {reason}"
    return None


def not_a_model_reason(path: Path) -> str | None:
    """Why the directory ``path`` is not a complete lstmkit saved model (``None``: it is one).

    A complete group of saved models (:data:`GROUP_MANIFEST` plus its member
    directories, nothing else) counts as one too.
    """
    try:
        names = sorted(entry.name for entry in path.iterdir())
    except OSError as exc:
        return f"it cannot be listed ({exc.strerror or type(exc).__name__})"
    if GROUP_MANIFEST in names:
        return _group_reason(path, names)
    extra = [n for n in names if n not in MODEL_FILES]
    if extra:
        shown = ", ".join(repr(n) for n in extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        return f"it also holds {shown}"
    for name in sorted(MODEL_FILES):
        entry = path / name
        if entry.is_symlink() or not entry.is_file():
            return f"{name} is missing or not a regular file"
    try:
        header = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return f"{CONFIG_FILE} is not valid JSON"
    if not isinstance(header, dict):
        return f"{CONFIG_FILE} is not a JSON object"
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return f"{CONFIG_FILE} has no integer format_version"
    if not isinstance(header.get("task"), str):
        return f"{CONFIG_FILE} names no task"
    return None


def check_model_target(path: str | os.PathLike) -> Path:
    """Check, before any training, that a saved model can be written at ``path``.

    Accepted: a path that does not exist yet (its parents are created on
    save), an empty directory, or a complete saved model (it will be
    replaced). Refused with :class:`~lstmkit.io.OutputPathError` (one line):
    a file, a symbolic link, the current directory or one of its parents, a
    parent that is a file or not writable, and any non-empty directory that is
    not a complete lstmkit saved model. Returns the absolute path.
    """
    check_output_path(path, kind="dir", what="model output", replaces=True)
    dest = Path(os.path.abspath(path))
    if dest.is_symlink():
        raise OutputPathError(f"model output '{path}' is a symbolic link; name a real directory")
    if dest.is_dir() and any(dest.iterdir()):
        reason = not_a_model_reason(dest)
        if reason is not None:
            raise OutputPathError(
                f"model output '{path}' is a non-empty directory that is not an lstmkit saved model "
                f"({reason}); refusing to replace it: choose another path or empty it yourself"
            )
    if dest.exists() and not os.access(dest, os.W_OK | os.X_OK):
        raise OutputPathError(f"model output '{path}' is not writable")
    return dest


def check_outputs(model_dir: str | os.PathLike, *files: str | os.PathLike | None) -> Path:
    """Before a fit: :func:`check_model_target` for ``model_dir``, and each given file path
    (``None`` skipped) must be writable as a file (:func:`lstmkit.io.check_output_path`)."""
    for file in files:
        if file is not None:
            check_output_path(file, kind="file")
    return check_model_target(model_dir)


@contextlib.contextmanager
def replace_model_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``path`` (see the module doc).

    ``path`` is checked with :func:`check_model_target` and locked against
    other writers for the whole write; on an exception the temporary
    directory is removed and ``path`` is left as it was.
    """
    from lstmkit.io import make_temporary_dir

    dest = check_model_target(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with locked(dest, path):
        check_model_target(path)  # again, now that no other writer can change it
        tmp = make_temporary_dir(dest)
        try:
            yield tmp
            swap_in(tmp, dest)
        except BaseException:
            remove_path(tmp)
            raise


def lock_file(dest: Path) -> Path:
    """The lock file of the saved-model path ``dest`` (a hidden sibling)."""
    return dest.parent / f".{dest.name}.lock"


@contextlib.contextmanager
def locked(dest: Path, shown: str | os.PathLike) -> Iterator[None]:
    """Hold the writer lock of ``dest``; clean what killed writers left, recover a lost model."""
    with exclusive_lock(lock_file(dest), f"model output '{shown}'"):
        recover(dest)
        clean_stale_temporaries(dest.parent, dest.name)
        yield


def _backups(dest: Path) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(dest.parent / f".{glob.escape(dest.name)}.old-*")))


def recover(dest: Path) -> bool:
    """Under the writer lock: restore an old model that a crash left aside; drop stale backups.

    Returns whether a model was restored at ``dest``.
    """
    restored = False
    for backup in _backups(dest):
        if not dest.exists() and backup.is_dir() and not_a_model_reason(backup) is None:
            os.rename(backup, dest)
            restored = True
        else:
            remove_path(backup)
    return restored


def recover_for_reading(dest: Path, shown: str | os.PathLike) -> None:
    """Before reading a missing ``dest``: restore it if a crashed replace left it aside."""
    if dest.exists() or not _backups(dest):
        return
    try:
        with exclusive_lock(lock_file(dest), f"model output '{shown}'"):
            recover(dest)
    except BusyError:
        from lstmkit.train.saved import ModelLoadError

        raise ModelLoadError(f"'{shown}' is being written by another process; try again") from None


# --------------------------------------------------------------------------- the swap
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}


def _renameat2():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        fn.restype = ctypes.c_int
    return fn


EXCHANGE_AVAILABLE = True  # tests set it to False to exercise the two-rename fallback


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the directory entries ``a`` and ``b``; ``False`` where unsupported."""
    fn = _renameat2() if EXCHANGE_AVAILABLE else None
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def swap_in(tmp: Path, dest: Path) -> None:
    """Move the complete directory ``tmp`` to ``dest``, replacing what is there (see module doc)."""
    if not dest.exists():
        os.rename(tmp, dest)  # an empty directory at dest is replaced too
    elif exchange(tmp, dest):
        remove_path(tmp)  # tmp now holds the old model
    else:
        backup = dest.parent / f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(dest, backup)
        try:
            os.rename(tmp, dest)
        except BaseException:
            os.rename(backup, dest)
            raise
        remove_path(backup)
    _fsync_dir(dest.parent)
