"""Atomic file writes and strict text reading shared by the language tasks.

A write goes to a temporary file in the destination folder and is renamed
over the target only when complete, so a failed run never leaves a
half-written file behind.

Reading contract (one output line or row per input line or row, in order):

* :func:`split_lines` breaks text at ``\\n`` only (a ``\\r`` before it is
  dropped, so CRLF files read like LF files). Form feed, ``\\x1c``-``\\x1e``,
  ``\\x85``, U+2028 and U+2029 stay inside their line: ``str.splitlines``
  would break there and shift every later line against its output.
* :func:`read_csv_rows` parses the whole text as CSV, so a quoted field keeps
  its newlines; a field of any size up to the file's own size is accepted
  (the ``csv`` module refuses fields over 128 KiB by default).
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from pathlib import Path

from lstmkit.io import atomic_write_text

__all__ = ["atomic_write_text", "read_text", "read_text_lines", "read_csv_rows", "split_lines"]


def read_text(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """The decoded text of a file (a leading byte-order mark removed).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: ``path`` is a directory, or the bytes are not valid ``encoding``;
            the message names the file and the 1-based line of the first bad byte.
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{p}: is a directory, expected a text file")
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
    return text[1:] if text.startswith("\ufeff") else text


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` broken at ``\\n`` only, without their ``\\n`` / ``\\r\\n`` ending.

    A final line without ``\\n`` counts; a final ``\\n`` does not start an empty line:

    >>> split_lines("a\\fb\\r\\nc\\u2028d\\n")
    ['a\\x0cb', 'c\\u2028d']
    >>> split_lines("")
    []
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_text_lines(path: str | os.PathLike, encoding: str = "utf-8") -> list[str]:
    """Read a text file as lines (without newline characters), split at ``\\n`` only.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a directory, or bytes that are not valid ``encoding``; the message
            names the file and the 1-based line of the first bad byte.
    """
    return split_lines(read_text(path, encoding))


@contextlib.contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """Let the csv module accept fields up to ``size`` characters, restoring the old limit after."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, size))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_csv_rows(path: str | os.PathLike, delimiter: str = ",",
                  skip_blank: bool = True) -> list[tuple[int, list[str]]]:
    """Rows of a CSV file as ``(line, fields)``, ``line`` the 1-based line where the row starts.

    Quoted fields keep their newlines (a row may span several lines); a row ends at
    ``\n`` only. Parsing is strict: an unterminated quote (which would swallow every
    later row into one field), text after a closing quote, or an unquoted lone ``\r``
    is refused as malformed. With
    ``skip_blank`` rows whose fields are all blank (empty lines) are left out.

    Raises:
        FileNotFoundError, ValueError: as :func:`read_text`; a malformed row
            (``csv.Error``, e.g. a NUL byte or an unterminated quote) names file and line.
    """
    p = Path(path)
    text = read_text(p)
    rows: list[tuple[int, list[str]]] = []
    pieces = text.split("\n")  # lines at \n only, each keeping its \n (a lone \r is not a row end)
    reader = csv.reader((piece + "\n" for piece in pieces[:-1]) if not pieces[-1]
                        else [*(piece + "\n" for piece in pieces[:-1]), pieces[-1]],
                        delimiter=delimiter, strict=True)
    start = 1
    with _field_limit(len(text) + 1):
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                raise ValueError(f"{p}:{start}: not a valid CSV row ({err})") from None
            if not (skip_blank and (not row or all(not c.strip() for c in row))):
                rows.append((start, row))
            start = reader.line_num + 1
    return rows
