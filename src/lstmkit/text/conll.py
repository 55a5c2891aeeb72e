"""Reading and writing CoNLL-U and two-column CoNLL files, with errors that name file and line.

Lines end at ``\n`` only (:func:`lstmkit.text.read_text_lines`); a blank line is one
holding nothing but spaces and tabs.

CoNLL-U: sentences separated by blank lines; ``#`` comment lines; token lines
of exactly 10 tab-separated fields (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL
DEPS MISC). Multiword-token (``3-4``) and empty-node (``5.1``) lines are kept
for output but not tagged. The tag column is chosen by name (``upos``,
``xpos``, ``deprel``, ...) or 1-based number.

Two-column CoNLL: ``token<spaces or tabs>tag`` per line, blank line between
sentences; at predict time the tag may be missing (one column). It has no
comment lines: a token starting with ``#`` (``#1``, a hashtag) is a token.
Other whitespace (no-break space, U+2028, form feed) belongs to the token.

Writing puts predictions back in the same format: CoNLL-U keeps every line
and replaces the chosen column; two-column writes ``token\\ttag``. Writes are
atomic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lstmkit.text._io import atomic_write_text, read_text_lines

__all__ = ["Sentence", "read_conll", "write_conll", "CONLLU_COLUMNS", "detect_format"]

CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
FORMATS = ("auto", "conllu", "conll")
_FIELD_SEP = re.compile(r"[ \t]+")  # two-column files: columns split at spaces and tabs only


def _is_blank(line: str) -> bool:
    return not line.strip(" \t\r")


def _two_columns(line: str) -> list[str]:
    stripped = line.strip(" \t\r")
    return _FIELD_SEP.split(stripped) if stripped else []


@dataclass
class Sentence:
    """One sentence: its tokens, gold tags (None when the file has none) and source lines.

    ``lines`` are the raw lines of the sentence (comments included) and
    ``token_lines`` the index into ``lines`` of each tagged token, so a
    prediction can be written back in the same format.
    """

    tokens: list[str]
    tags: list[str] | None
    start_line: int
    lines: list[str] = field(default_factory=list)
    token_lines: list[int] = field(default_factory=list)
    fields: list[list[str]] = field(default_factory=list)


def _column_index(column: str | int) -> int:
    if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
        idx = int(column) - 1
        if not 0 <= idx < 10:
            raise ValueError(f"column must be 1..10 or a CoNLL-U column name, got {column!r}")
        return idx
    name = str(column).lower()
    if name not in CONLLU_COLUMNS:
        raise ValueError(f"column must be one of {CONLLU_COLUMNS} or 1..10, got {column!r}")
    return CONLLU_COLUMNS.index(name)


def detect_format(path: str | os.PathLike, lines: Sequence[str] | None = None) -> str:
    """``conllu`` if the suffix is ``.conllu`` or the first token line has 10 tab fields, else ``conll``."""
    p = Path(path)
    if p.suffix.lower() == ".conllu":
        return "conllu"
    for line in lines if lines is not None else read_text_lines(p):
        if not _is_blank(line) and not line.startswith("#"):
            return "conllu" if len(line.split("\t")) == 10 else "conll"
    return "conll"


def _blocks(lines: Sequence[str]):
    """Yield (start_line_number, block_lines) for blank-line separated blocks."""
    block: list[str] = []
    start = 0
    for i, line in enumerate(lines, start=1):
        if not _is_blank(line):
            if not block:
                start = i
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def read_conll(
    path: str | os.PathLike, fmt: str = "auto", column: str | int = "upos", require_tags: bool = True
) -> list[Sentence]:
    """Read sentences from a CoNLL-U or two-column CoNLL file.

    Args:
        path: the file (utf-8).
        fmt: ``"auto"``, ``"conllu"`` or ``"conll"``.
        column: CoNLL-U tag column (name or 1-based number); ignored for two-column files.
        require_tags: every token must have a tag (fit / evaluate); when False,
            a missing tag (one-column line, or ``_`` in CoNLL-U) gives ``tags=None``.

    Raises:
        ValueError: empty file, wrong column count, a sentence without tokens,
            a missing tag, bad encoding; the message is ``file:line: what``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    p = Path(path)
    lines = read_text_lines(p)
    if all(_is_blank(line) for line in lines):
        raise ValueError(f"{p}: file is empty (no sentences)")
    if fmt == "auto":
        fmt = detect_format(p, lines)
    col = _column_index(column) if fmt == "conllu" else 1
    sentences: list[Sentence] = []
    for start, block in _blocks(lines):
        sent = Sentence(tokens=[], tags=[], start_line=start, lines=list(block))
        missing_tag_line = None
        for k, line in enumerate(block):
            lineno = start + k
            if fmt == "conllu" and line.startswith("#"):
                continue  # a CoNLL-U comment (two-column files have none)
            if fmt == "conllu":
                parts = line.split("\t")
                if len(parts) != 10:
                    raise ValueError(
                        f"{p}:{lineno}: expected 10 tab-separated CoNLL-U columns, got {len(parts)}"
                    )
                if "-" in parts[0] or "." in parts[0]:
                    continue  # multiword token or empty node
                token, tag = parts[1], parts[col]
                has_tag = tag not in ("", "_")
            else:
                parts = _two_columns(line)
                if len(parts) > 2 or (require_tags and len(parts) != 2):
                    raise ValueError(
                        f"{p}:{lineno}: expected 2 columns (token, tag) separated by spaces or tabs, "
                        f"got {len(parts)}"
                    )
                token = parts[0]
                tag = parts[1] if len(parts) == 2 else ""
                has_tag = len(parts) == 2
            if not has_tag and missing_tag_line is None:
                missing_tag_line = lineno
            sent.tokens.append(token)
            sent.tags.append(tag)
            sent.token_lines.append(k)
            sent.fields.append(parts)
        if not sent.tokens:
            raise ValueError(f"{p}:{start}: sentence has no tokens (only comments or multiword lines)")
        if missing_tag_line is not None:
            if require_tags:
                what = CONLLU_COLUMNS[col] if fmt == "conllu" else "tag"
                raise ValueError(f"{p}:{missing_tag_line}: token has no {what} (needed for training/evaluation)")
            sent.tags = None
        sentences.append(sent)
    return sentences


def write_conll(
    path: str | os.PathLike,
    sentences: Sequence[Sentence],
    predictions: Sequence[Sequence[str]],
    fmt: str = "conll",
    column: str | int = "upos",
) -> Path:
    """Write ``predictions`` (one tag list per sentence) in ``fmt``, atomically."""
    if fmt not in ("conllu", "conll"):
        raise ValueError(f"fmt must be 'conllu' or 'conll', got {fmt!r}")
    if len(sentences) != len(predictions):
        raise ValueError(f"{len(sentences)} sentences but {len(predictions)} predictions")
    col = _column_index(column) if fmt == "conllu" else 1
    out: list[str] = []
    for sent, tags in zip(sentences, predictions):
        if len(tags) != len(sent.tokens):
            raise ValueError(f"sentence at line {sent.start_line}: {len(sent.tokens)} tokens, {len(tags)} tags")
        if fmt == "conllu" and sent.lines and len(sent.lines[sent.token_lines[0]].split("\t")) == 10:
            lines = list(sent.lines)
            for k, tag in zip(sent.token_lines, tags):
                parts = lines[k].split("\t")
                parts[col] = tag
                lines[k] = "\t".join(parts)
            out.extend(lines)
        elif fmt == "conllu":
            for i, (tok, tag) in enumerate(zip(sent.tokens, tags), start=1):
                parts = [str(i), tok] + ["_"] * 8
                parts[col] = tag
                out.append("\t".join(parts))
        else:
            out.extend(f"{tok}\t{tag}" for tok, tag in zip(sent.tokens, tags))
        out.append("")
    return atomic_write_text(path, "\n".join(out) + ("\n" if out else ""))
