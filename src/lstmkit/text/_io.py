"""Atomic file writes and strict text reading shared by the language tasks.

A write goes to a temporary file in the destination folder and is renamed
over the target only when complete, so a failed run never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from lstmkit.io import atomic_write_text

__all__ = ["atomic_write_text", "read_text_lines"]


def read_text_lines(path: str | os.PathLike, encoding: str = "utf-8") -> list[str]:
    """Read a text file as lines (without newline characters).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the bytes are not valid ``encoding``; the message names the
            file and the 1-based line of the first bad byte.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    raw = p.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(
            f"{p}:{line}: text is not valid {encoding} (byte 0x{raw[err.start]:02x} at offset "
            f"{err.start}); re-encode the file as {encoding}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()
