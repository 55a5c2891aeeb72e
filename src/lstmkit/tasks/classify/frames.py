"""What `Classify` reads and writes: labelled texts from files, frames or lists; prediction tables.

A data argument of `Classify` is one of

* a path to a CSV/TSV file (columns by name, see :func:`~.data.read_table`);
  errors name ``file:line``;
* a ``pandas.DataFrame`` with the text (and label) column; errors name the row;
* ``(texts, labels)`` (two sequences) or, for prediction, a list of texts.

:class:`Rows` holds what was read, with ``where[i]``: how item i is named in
an error message (``train.csv:12``, ``row 3``, ``item 3``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .data import delimiter_for, read_table


@dataclass
class Rows:
    """Texts, their labels (None: unlabelled), how each is named in messages, and the source's name."""

    texts: list[str]
    labels: list | None
    where: list[str]
    name: str

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, index: Sequence[int], name: str) -> Rows:
        labels = None if self.labels is None else [self.labels[i] for i in index]
        return Rows([self.texts[i] for i in index], labels, [self.where[i] for i in index], name)


def _label(value: Any, regression: bool, where: str) -> Any:
    if regression:
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: label {value!r} is not a number (regression)") from None
        if out != out or out in (float("inf"), float("-inf")):
            raise ValueError(f"{where}: label {value!r} is not finite")
        return out
    return str(value).strip()


def read_rows(data: Any, text_col: str, label_col: str | None, delimiter: str | None = None,
              regression: bool = False, what: str = "data") -> Rows:
    """Read texts (and labels unless ``label_col`` is None) from a file, a frame or sequences."""
    if isinstance(data, (str, os.PathLike)):
        texts, labels, lines = read_table(data, text_col, label_col, delimiter, regression)
        return Rows(texts, labels, [f"{data}:{n}" for n in lines], os.fspath(data))
    if isinstance(data, pd.DataFrame):
        needed = [text_col] + ([label_col] if label_col is not None else [])
        for name in needed:
            if name not in data.columns:
                raise ValueError(f"{what}: no column {name!r}; columns are {list(data.columns)}")
        where = [f"{what} row {i}" for i in range(len(data))]
        texts = [str(t).strip() if t == t and t is not None else "" for t in data[text_col]]
        labels = None if label_col is None else [
            _label(v, regression, w) for v, w in zip(data[label_col], where)]
        rows = Rows(texts, labels, where, what)
    elif isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], str):
        texts, labels = list(data[0]), list(data[1])
        if len(texts) != len(labels):
            raise ValueError(f"{what}: {len(texts)} texts but {len(labels)} labels")
        where = [f"item {i}" for i in range(len(texts))]
        rows = Rows(texts, [_label(v, regression, w) for v, w in zip(labels, where)], where, what)
        if label_col is None:
            rows.labels = None
    elif isinstance(data, Sequence) and not isinstance(data, str):
        if label_col is not None:
            raise ValueError(f"{what}: expected labelled data: a table file, a DataFrame or (texts, labels)")
        texts = list(data)
        rows = Rows(texts, None, [f"item {i}" for i in range(len(texts))], what)
    else:
        raise TypeError(f"{what}: expected a CSV/TSV path, a DataFrame, (texts, labels) or a list of texts, "
                        f"got {type(data).__name__}")
    if not rows.texts:
        raise ValueError(f"{what}: no texts given")
    for text, where in zip(rows.texts, rows.where):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: empty text")
    return rows


def input_frame(data: Any, text_col: str, delimiter: str | None = None) -> pd.DataFrame:
    """The rows a prediction table starts from: every input column (file cells kept as text)."""
    if isinstance(data, (str, os.PathLike)):
        from lstmkit.text import read_csv_rows

        rows = [r for _, r in read_csv_rows(data, delimiter_for(data, delimiter))]  # as read_table reads them
        header, body = rows[0], rows[1:]
        width = len(header)
        return pd.DataFrame([(r + [""] * width)[:width] for r in body], columns=header, dtype=object)
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True).copy()
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], str):
        return pd.DataFrame({text_col: list(data[0])})
    return pd.DataFrame({text_col: list(data)})


def write_frame(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a prediction table as CSV (atomically: a failed run leaves no file)."""
    from lstmkit.io import atomic_write_text

    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return atomic_write_text(path, buf.getvalue())
