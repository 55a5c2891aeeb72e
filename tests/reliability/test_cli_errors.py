"""Issue 10 §6: a user error ends in one line ``lstmkit: error: ...`` and exit 2, never a traceback;
a bug (TypeError) keeps its traceback; ``--debug`` / ``LSTMKIT_DEBUG=1`` show every traceback."""

from __future__ import annotations

import argparse
import csv
import errno

import numpy as np
import pandas as pd
import pytest
import untrained

from lstmkit import cli
from lstmkit.testing import run_cli_in_process


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("LSTMKIT_DEBUG", raising=False)


def one_line(result, *fragments: str) -> str:
    """Assert exit 2 and a single ``lstmkit: error:`` line holding every fragment."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("lstmkit: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return lambda *args: run_cli_in_process(*args, cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch)


# ----------------------------------------------------------------------------- the mapping, for every class
def _parser_raising(exc: BaseException):
    def func(_args):
        raise exc

    parser = argparse.ArgumentParser(prog="lstmkit")
    parser.set_defaults(func=func)
    return lambda: parser


@pytest.mark.parametrize("exc,fragments", [
    (IsADirectoryError(errno.EISDIR, "Is a directory", "out.csv"), ["Is a directory: 'out.csv'"]),
    (FileExistsError(errno.EEXIST, "File exists", "model"), ["File exists: 'model'"]),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x.csv"), ["Permission denied: '/root/x.csv'"]),
    (OSError(errno.EBUSY, "Device or resource busy", "/mnt/out"), ["Device or resource busy: '/mnt/out'"]),
    (OSError(errno.EXDEV, "Invalid cross-device link", "a.tmp", None, "b"), ["Invalid cross-device link: 'a.tmp' -> 'b'"]),
    (MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000000001,)"),
     ["out of memory: Unable to allocate 7.28 TiB"]),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 36000000000000 bytes"),
     ["out of memory", "36000000000000 bytes"]),
    (csv.Error("field larger than field limit (131072)"), ["malformed CSV: field larger than field limit"]),
    (UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte"), ["not valid utf-8 (byte 0xff at offset 2)"]),
])
def test_user_errors_are_one_line(monkeypatch, capsys, exc, fragments):
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    result = run_cli_in_process(cwd=".", capsys=capsys, monkeypatch=monkeypatch)
    one_line(result, *fragments)


def test_yaml_error_is_one_line(monkeypatch, capsys):
    import yaml

    try:
        yaml.safe_load("a: [1, 2")
    except yaml.YAMLError as err:
        exc = err
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    one_line(run_cli_in_process(cwd=".", capsys=capsys, monkeypatch=monkeypatch), "not valid YAML")


@pytest.mark.parametrize("exc", [TypeError("unsupported operand type(s)"), KeyError("bug"),
                                 AttributeError("'NoneType' object has no attribute 'x'")])
def test_a_bug_keeps_its_traceback(monkeypatch, exc):
    """TypeError (and other non-user errors) are not swallowed into one line."""
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    with pytest.raises(type(exc)):
        cli.main([])


def test_debug_flag_and_env_show_tracebacks_of_user_errors(monkeypatch):
    exc = ValueError("a user error")
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    with pytest.raises(ValueError, match="a user error"):
        cli.main(["--debug"])
    monkeypatch.setenv("LSTMKIT_DEBUG", "1")
    with pytest.raises(ValueError, match="a user error"):
        cli.main([])


def test_debug_flag_is_accepted_by_the_real_parser(run, tmp_path):
    """``--debug`` anywhere: the real commands still parse (here: a one-line error made a traceback)."""
    (tmp_path / "s.csv").write_text("ds,y\n0,1\n1,2\n2,3\n")
    with pytest.raises(ValueError, match="--step"):
        run("forecast", "backtest", "--data", "s.csv", "--horizon", "1", "--step", "0", "--out", "bt", "--debug")


# ----------------------------------------------------------------------------- real commands
def test_time_grid_too_large_for_memory_is_refused_with_its_size(run, tmp_path):
    (tmp_path / "big.csv").write_text("ds,y\n0,1\n1,2\n2,3\n1e12,4\n")
    line = one_line(run("forecast", "fit", "--data", "big.csv", "--horizon", "1", "--epochs", "1",
                        "--no-progress", "--out", "m"), "big.csv", "1,000,000,000,001 steps", "GiB")
    assert "series 'series_0'" in line
    assert not (tmp_path / "m").exists()


def test_non_utf8_csv_and_yaml_name_the_file(run, tmp_path):
    (tmp_path / "latin.csv").write_bytes("ds,y\n0,caf\xe9\n".encode("latin-1"))
    one_line(run("forecast", "fit", "--data", "latin.csv", "--horizon", "1", "--out", "m"),
             "training data: latin.csv:2", "not valid utf-8")
    (tmp_path / "latin.tsv").write_bytes("text\tlabel\ncaf\xe9\tpos\n".encode("latin-1"))
    one_line(run("classify", "fit", "--data", "latin.tsv", "--out", "m"), "latin.tsv:2", "not valid utf-8")
    (tmp_path / "cfg.yaml").write_bytes("horizon: 2 # caf\xe9\n".encode("latin-1"))
    one_line(run("forecast", "fit", "--config", "cfg.yaml", "--data", "latin.csv", "--out", "m"),
             "cfg.yaml", "not valid UTF-8")


def test_a_directory_given_as_input_file(run, tmp_path):
    (tmp_path / "d.csv").mkdir()
    one_line(run("forecast", "fit", "--data", "d.csv", "--horizon", "1", "--out", "m"), "d.csv", "directory")
    one_line(run("classify", "fit", "--data", "d.csv", "--out", "m"), "d.csv", "directory")


def test_an_output_path_that_is_a_directory(run, tmp_path):
    untrained.forecaster(tmp_path / "model", None)
    pd.DataFrame({"ds": np.arange(10), "y": np.arange(10.0)}).to_csv(tmp_path / "h.csv", index=False)
    (tmp_path / "out.csv").mkdir()
    one_line(run("forecast", "predict", "--model", "model", "--data", "h.csv", "--out", "out.csv"),
             "a directory", "out.csv")  # lstmkit.io checks before writing


@pytest.mark.parametrize("trained_on,ds", [("MS", np.arange(10)), ("MS", np.arange(10) + 0.0),
                                           (None, pd.date_range("2020-01-01", periods=10, freq="MS"))])
def test_time_kind_must_match_the_model(run, tmp_path, trained_on, ds):
    """Integer or float ``ds`` against a model trained on dates is refused, and vice versa."""
    untrained.forecaster(tmp_path / "model", trained_on)
    pd.DataFrame({"ds": ds, "y": np.arange(10.0)}).to_csv(tmp_path / "h.csv", index=False)
    given, trained = ("dates", "integer steps") if trained_on is None else ("integer steps", "dates")
    one_line(run("forecast", "predict", "--model", "model", "--data", "h.csv", "--out", "f.csv"),
             f"holds {given}, but the model was trained on {trained}")
    assert not (tmp_path / "f.csv").exists()


def test_matching_time_kind_still_predicts(run, tmp_path):
    untrained.forecaster(tmp_path / "model", None)
    pd.DataFrame({"ds": np.arange(10) + 0.0, "y": np.arange(10.0)}).to_csv(tmp_path / "h.csv", index=False)
    result = run("forecast", "predict", "--model", "model", "--data", "h.csv", "--out", "f.csv")
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "f.csv")["ds"].tolist() == [10, 11]  # whole-number floats are steps


def test_non_integer_numeric_time_is_refused(run, tmp_path):
    (tmp_path / "s.csv").write_text("ds,y\n0,1\n1.5,2\n3,3\n")
    one_line(run("forecast", "fit", "--data", "s.csv", "--horizon", "1", "--out", "m"),
             "row 2", "column 'ds' has time 1.5", "whole numbers")


# ----------------------------------------------------------------------------- unclear one-liners, mended
@pytest.mark.parametrize("size", ["0", "-1"])
def test_translate_batch_size(run, tmp_path, size):
    untrained.translator(tmp_path / "model")
    (tmp_path / "in.txt").write_text("a b\nc d\n")
    one_line(run("translate", "translate", "--model", "model", "--data", "in.txt", "--out", "out.txt",
                 "--decode-batch-size", size), "--decode-batch-size", f"expected an integer >= 1, received {size}")
    assert not (tmp_path / "out.txt").exists()
    (tmp_path / "tgt.txt").write_text("b a\nd c\n")
    one_line(run("translate", "fit", "--source", "in.txt", "--target", "tgt.txt", "--out", "m",
                 "--batch-size", size), "--batch-size", f"received {size}")


@pytest.mark.parametrize("step", ["-3", "0"])
def test_backtest_step(run, tmp_path, step):
    pd.DataFrame({"ds": np.arange(40), "y": np.arange(40.0)}).to_csv(tmp_path / "s.csv", index=False)
    one_line(run("forecast", "backtest", "--data", "s.csv", "--horizon", "2", "--step", step, "--out", "bt"),
             "--step", f"expected an integer >= 1, received {step}")


def test_plot_series_zero(run, tmp_path):
    pd.DataFrame({"ds": np.arange(40), "y": np.arange(40.0)}).to_csv(tmp_path / "s.csv", index=False)
    one_line(run("forecast", "backtest", "--data", "s.csv", "--horizon", "2", "--plot-series", "0",
                 "--out", "bt"), "--plot-series", "received 0")
    assert not (tmp_path / "bt").exists()
    untrained.forecaster(tmp_path / "model", None)
    one_line(run("forecast", "predict", "--model", "model", "--data", "s.csv", "--out", "f.csv",
                 "--plot", "f.png", "--plot-series", "0"), "--plot-series", "received 0")
    assert not (tmp_path / "f.csv").exists()


def test_classify_model_without_labels(run, tmp_path):
    untrained.classifier(tmp_path / "model")
    untrained.edit_config(tmp_path / "model", lambda c: c["extras"]["encoder"].update(labels=None))
    (tmp_path / "new.csv").write_text("text\ngood film\n")
    one_line(run("classify", "predict", "--model", "model", "--data", "new.csv", "--out", "p.csv"),
             "'model'", "without its class labels", "found None")


@pytest.mark.parametrize("section", ["config", "extras"])
def test_classify_model_with_an_emptied_section(run, tmp_path, section):
    untrained.classifier(tmp_path / "model")
    untrained.edit_config(tmp_path / "model", lambda c: c.update({section: {}}))
    (tmp_path / "new.csv").write_text("text\ngood film\n")
    one_line(run("classify", "predict", "--model", "model", "--data", "new.csv", "--out", "p.csv"), "'model'")


def test_classify_model_with_a_wrong_type_in_its_config(run, tmp_path):
    """A string where a size belongs: a TypeError in the model constructor, shown as one line."""
    untrained.classifier(tmp_path / "model")
    # the sectioned layout: the size is config.model.hidden_size (a string of digits would be read as the number)
    untrained.edit_config(tmp_path / "model", lambda c: c["config"]["model"].update(hidden_size="four"))
    (tmp_path / "new.csv").write_text("text\ngood film\n")
    one_line(run("classify", "predict", "--model", "model", "--data", "new.csv", "--out", "p.csv"),
             "'model' has an unusable classify config", "hidden_size", "expected an integer")
