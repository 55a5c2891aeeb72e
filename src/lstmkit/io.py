"""Atomic outputs: a file or a folder of files appears complete or not at all.

Every writer goes to a temporary file in the destination folder (same file
system) and renames it over the target only once it is complete, so a crash
or a failed run never leaves a half-written file. Written files get the usual
0644 permissions (``mkstemp`` alone would leave 0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
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


def atomic_write_json(path: str | os.PathLike, obj: Any, **dump_kw: Any) -> Path:
    """Write ``obj`` as indented JSON (numpy / torch scalars as floats) atomically."""
    dump_kw.setdefault("indent", 2)
    dump_kw.setdefault("default", float)
    return atomic_write_text(path, json.dumps(obj, **dump_kw) + "\n")


def atomic_savefig(fig: Any, path: str | os.PathLike, **savefig_kw: Any) -> Path:
    """Save a matplotlib figure atomically (PNG unless ``format`` says otherwise)."""
    savefig_kw.setdefault("format", Path(path).suffix.lstrip(".") or "png")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **savefig_kw)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder; on success its files move into ``path`` (created if needed).

    On an exception the temporary folder is removed and ``path`` is left as it was.
    Each file is moved with ``os.replace``, so a reader never sees a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
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
