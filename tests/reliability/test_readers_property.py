"""Issue 10 §5: every reader gives exactly one row / line / token per input row / line / token,
in order, for any input it accepts (hypothesis), and the CLI outputs stay aligned with inputs."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import untrained
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.tasks.classify import read_table
from lstmkit.tasks.forecast import prepare_panel
from lstmkit.tasks.translate import read_lines
from lstmkit.testing import run_cli_in_process
from lstmkit.text import read_text_lines
from lstmkit.text.conll import read_conll

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Line and record separators that str.splitlines breaks at, and other odd characters.
ODD = "\f\v\x1c\x1d\x1e\x85\u2028\u2029\r\"',;#\t \u00a0é漢"
# Any character UTF-8 can hold except NUL, and plenty of the odd ones above.
chars = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                  st.sampled_from(ODD))


def _write(text: str, suffix: str = ".txt") -> Path:
    handle = tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False)
    handle.write(text.encode("utf-8"))
    handle.close()
    return Path(handle.name)


# ----------------------------------------------------------------------------- text lines
line = st.text(chars.filter(lambda c: c != "\n"), max_size=12).filter(lambda s: not s.endswith("\r"))


@SETTINGS
@given(st.lists(line, max_size=8), st.booleans())
def test_text_lines_one_per_input_line(lines, crlf):
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = "x" + lines[0]  # a leading byte-order mark is not content
    path = _write("".join(s + ("\r\n" if crlf else "\n") for s in lines))
    assert read_text_lines(path) == lines


@SETTINGS
@given(st.lists(line.filter(lambda s: s.strip() and not s.startswith("\ufeff")), min_size=1, max_size=8))
def test_translate_input_one_sentence_per_line(lines):
    """The reader behind ``translate translate``: a line with \\f or U+2028 stays one sentence."""
    assert read_lines(_write("\n".join(lines) + "\n")) == lines


# ----------------------------------------------------------------------------- CSV for classify
cell = st.text(chars, min_size=1, max_size=12).filter(lambda s: s.strip())


@SETTINGS
@given(st.lists(st.tuples(cell, st.sampled_from(["pos", "neg", "a,b", 'say "x"'])), min_size=1, max_size=8),
       st.sampled_from([",", "\t", ";"]),
       st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL), ("\r\n", csv.QUOTE_ALL)]))
def test_classify_csv_one_text_per_row(rows, delimiter, dialect):
    """(With "\n" line ends csv.writer leaves a field holding \r unquoted; such a row is refused.)"""
    terminator, quoting = dialect
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    texts, labels, _ = read_table(_write(buf.getvalue(), ".csv"), delimiter=delimiter)
    assert texts == [t.strip() for t, _ in rows]
    assert labels == [lab for _, lab in rows]


def test_classify_csv_field_over_128_kib(tmp_path):
    big = "word " * 40_000  # 200 kB in one field: the csv module's default limit is 128 KiB
    (tmp_path / "big.csv").write_text(f'text,label\n"{big}",pos\nshort,neg\n')
    texts, labels, lines = read_table(tmp_path / "big.csv")
    assert texts == [big.strip(), "short"] and labels == ["pos", "neg"] and lines == [2, 3]


@pytest.mark.parametrize("row,why", [('"unterminated,neg\nnext,pos', "unexpected end of data"),
                                     ('"quoted"tail,neg', "expected after"),
                                     ("lone\rreturn,neg", "new-line character")])
def test_classify_csv_malformed_row_names_file_and_line(tmp_path, row, why):
    """Refused, not read leniently: an unterminated quote would merge every later row into one."""
    (tmp_path / "bad.csv").write_text(f"text,label\nok,pos\n{row}\n")
    with pytest.raises(ValueError, match=rf"bad\.csv:3: not a valid CSV row \(.*{why}"):
        read_table(tmp_path / "bad.csv")


# ----------------------------------------------------------------------------- CoNLL
token = st.text(chars.filter(lambda c: c not in " \t\n\r"), min_size=1, max_size=8)
tag = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x7f) | st.just("-"),
              min_size=1, max_size=5)
sentence = st.lists(st.tuples(token, tag), min_size=1, max_size=6)


@SETTINGS
@given(st.lists(sentence, min_size=1, max_size=5), st.sampled_from(["\t", " ", " \t "]))
def test_conll_two_column_one_token_per_line(sentences, sep):
    """Tokens starting with # (``#1``, hashtags) are tokens: two-column files have no comments."""
    text = "\n\n".join("\n".join(f"{w}{sep}{t}" for w, t in s) for s in sentences) + "\n"
    got = read_conll(_write(text, ".conll"), fmt="conll")
    assert [(s.tokens, s.tags) for s in got] == [([w for w, _ in s], [t for _, t in s]) for s in sentences]


form = st.text(chars.filter(lambda c: c not in "\t\n\r"), min_size=1, max_size=8).filter(
    lambda s: s.strip(" \t\r"))
upos = tag.filter(lambda t: t != "_")


@SETTINGS
@given(st.lists(st.tuples(st.lists(st.tuples(form, upos), min_size=1, max_size=6), st.booleans()),
                min_size=1, max_size=4))
def test_conllu_one_token_per_token_line(sentences):
    blocks = []
    for words, comment in sentences:
        lines = ["# text = " + " ".join(w for w, _ in words)] if comment else []
        lines += [f"{i}\t{w}\t_\t{t}\t_\t_\t0\tdep\t_\t_" for i, (w, t) in enumerate(words, start=1)]
        blocks.append("\n".join(lines))
    got = read_conll(_write("\n\n".join(blocks) + "\n", ".conllu"), fmt="conllu", column="upos")
    assert [(s.tokens, s.tags) for s, _ in zip(got, sentences)] == [
        ([w for w, _ in words], [t for _, t in words]) for words, _ in sentences]
    assert len(got) == len(sentences)


def test_two_column_hash_tokens_are_kept(tmp_path):
    (tmp_path / "t.conll").write_text("#1\tNUM\n#love\tHASHTAG\nit\tPRON\n")
    (sent,) = read_conll(tmp_path / "t.conll")
    assert sent.tokens == ["#1", "#love", "it"] and sent.tags == ["NUM", "HASHTAG", "PRON"]


# ----------------------------------------------------------------------------- forecast CSV
series_id = st.text(chars, max_size=8).map(lambda s: "s" + s)  # "s..." is never one of pandas' NA words
value = st.floats(min_value=-1e30, max_value=1e30, allow_nan=False, allow_subnormal=False)


@SETTINGS
@given(st.dictionaries(series_id, st.lists(value, min_size=1, max_size=6), min_size=1, max_size=4))
def test_forecast_csv_one_value_per_row(series):
    frame = pd.DataFrame([(uid, t, y) for uid, ys in series.items() for t, y in enumerate(ys)],
                         columns=["unique_id", "ds", "y"])
    path = _write(frame.to_csv(index=False), ".csv")
    panel = prepare_panel(path)
    assert panel.ids == list(series)
    assert [p.tolist() for p in panel.y] == [[float(repr(v)) for v in ys] for ys in series.values()]
    assert [list(ds) for ds in panel.ds] == [list(range(len(ys))) for ys in series.values()]


def test_forecast_ids_stay_as_written(tmp_path):
    (tmp_path / "ids.csv").write_text("unique_id,ds,y\n01,0,1\n01,1,2\n1,0,3\n1,1,4\n")
    assert prepare_panel(tmp_path / "ids.csv").ids == ["01", "1"]


# ----------------------------------------------------------------------------- CLI outputs aligned
def test_classify_predict_writes_one_row_per_input_row(tmp_path, capsys, monkeypatch):
    untrained.classifier(tmp_path / "model")
    texts = ["good\ffilm", "line one\nline two", "dull\u2028plot", "a\x1cb", "x" * 140_000]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["id", "text"], *([i, t] for i, t in enumerate(texts))])
    (tmp_path / "new.csv").write_text(buf.getvalue())
    result = run_cli_in_process("classify", "predict", "--model", "model", "--data", "new.csv", "--out", "p.csv",
                                cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "p.csv", newline="", encoding="utf-8") as handle:
        csv.field_size_limit(1 << 20)
        out = list(csv.reader(handle))
    assert [r[:2] for r in out[1:]] == [[str(i), t] for i, t in enumerate(texts)]


def test_translate_writes_one_line_per_input_line(tmp_path, capsys, monkeypatch):
    untrained.translator(tmp_path / "model")
    (tmp_path / "in.txt").write_text("a b\fc\nd\u2028e\nb\x1cc\n", encoding="utf-8")
    result = run_cli_in_process("translate", "translate", "model", "--input", "in.txt", "--output", "out.txt",
                                "--beam", "1", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").count("\n") == 3
    assert np.all([len(x) >= 0 for x in (tmp_path / "out.txt").read_text().split("\n")])
