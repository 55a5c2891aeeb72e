"""Reading parallel text: two aligned files (one sentence per line) or a TSV of pairs.

Errors name the file and line: an empty file, files whose line counts differ,
an empty line on either side, a TSV line without exactly two tab-separated
fields. Text must be UTF-8 (a bad byte is reported with its line).
"""

from __future__ import annotations

from pathlib import Path

from lstmkit.text import read_text_lines


def _lines(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    lines = read_text_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing blank line is not a sentence
    if not lines:
        raise ValueError(f"{path}: the file is empty; expected one sentence per line")
    return lines


def read_lines(path: str | Path, allow_empty_lines: bool = False) -> list[str]:
    """Non-empty sentences, one per line (blank lines are an error unless allowed)."""
    lines = _lines(path)
    if not allow_empty_lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                raise ValueError(f"{path}:{number}: empty line; every line must hold a sentence")
    return lines


def read_parallel(source: str | Path, target: str | Path) -> tuple[list[str], list[str]]:
    """Aligned sentence pairs from two files with the same number of lines."""
    src = _lines(source)
    tgt = _lines(target)
    if len(src) != len(tgt):
        raise ValueError(
            f"parallel files: expected the same number of lines, received {len(src)} in {source} "
            f"and {len(tgt)} in {target}"
        )
    for number, (a, b) in enumerate(zip(src, tgt), start=1):
        if not a.strip():
            raise ValueError(f"{source}:{number}: empty line; every line must hold a sentence")
        if not b.strip():
            raise ValueError(f"{target}:{number}: empty line; every line must hold a sentence")
    return src, tgt


def read_tsv_pairs(path: str | Path) -> tuple[list[str], list[str]]:
    """Pairs from a TSV file: ``source<TAB>target`` on each line."""
    src, tgt = [], []
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(
                f"{path}:{number}: expected 2 tab-separated fields (source, target), received {len(fields)}"
            )
        if not fields[0].strip() or not fields[1].strip():
            raise ValueError(f"{path}:{number}: empty source or target")
        src.append(fields[0])
        tgt.append(fields[1])
    return src, tgt
