"""The lstmkit command line: --help, YAML configs under command-line overrides, one-line errors."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lstmkit import cli
from lstmkit.commands._common import (
    CommandError,
    add_parser,
    add_train_arguments,
    apply_yaml_defaults,
    format_table,
    print_summary,
    train_config_from_args,
)
from lstmkit.train import ModelLoadError, TrainConfig

LSTMKIT = [sys.executable, "-m", "lstmkit.cli"]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*LSTMKIT, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          check=False)


# ----------------------------------------------------------------------------- subprocess
def test_help_lists_every_command_and_each_has_help():
    top = run_cli("--help")
    assert top.returncode == 0, top.stderr
    for name in cli.COMMANDS:
        assert name in top.stdout


def _command_paths(parser: argparse.ArgumentParser, prefix=()) -> list[tuple[tuple[str, ...], bool]]:
    """Every (sub)command path below ``parser`` and whether it is a leaf (runs something)."""
    paths = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                children = _command_paths(sub, (*prefix, name))
                paths.append(((*prefix, name), not children))
                paths.extend(children)
    return paths


def test_every_command_and_subcommand_has_help(capsys):
    paths = _command_paths(cli.build_parser())
    assert {p[0] for p, _ in paths} == set(cli.COMMANDS)
    for path, leaf in paths:
        with pytest.raises(SystemExit) as info:
            cli.main([*path, "--help"])
        assert info.value.code == 0, path
        text = capsys.readouterr().out
        assert text.startswith(f"usage: lstmkit {' '.join(path)}"), path
        if leaf:
            assert "--config" in text, f"lstmkit {' '.join(path)} cannot read a YAML config"


def test_yaml_config_sets_options_and_command_line_overrides(tmp_path):
    config = tmp_path / "adding.yaml"
    config.write_text("T: 1000\nsteps: 2\nout: from-yaml.json\n")
    out = tmp_path / "cli.json"
    done = run_cli("demo", "adding", "--config", str(config), "--T", "30", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "T=30" in done.stdout  # the command line beats the YAML's T: 1000
    assert "2 steps" in done.stdout  # the YAML's steps: 2 beats the default
    assert out.is_file() and not (tmp_path / "from-yaml.json").exists()
    json.loads(out.read_text())


def test_library_errors_are_one_line_with_exit_2(tmp_path):
    done = run_cli("demo", "adding", "--T", "3", "--steps", "1", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("lstmkit: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_missing_config_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--config", "nope.yaml"]) == 2
    assert capsys.readouterr().err == "lstmkit: error: --config: no such file 'nope.yaml'\n"


# ----------------------------------------------------------------------------- in process
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstmkit")
    sub = parser.add_subparsers(dest="command", required=True)
    fit = add_parser(sub, "fit", help="fit something", func=lambda args: 0)
    fit.add_argument("--hidden-size", type=int, default=8)
    fit.add_argument("--quantiles", type=float, nargs="+", default=[0.5])
    fit.add_argument("--kind", choices=("lstm", "gru"), default="lstm")
    fit.add_argument("--data", required=True)
    add_train_arguments(fit, max_epochs=7)
    return parser


def _parse(argv, yaml_text=None, tmp_path=None):
    parser = _parser()
    if yaml_text is not None:
        path = tmp_path / "c.yaml"
        path.write_text(yaml_text)
        argv = [*argv, "--config", str(path)]
    apply_yaml_defaults(parser, argv)
    return parser.parse_args(argv)


def test_yaml_defaults_types_and_override(tmp_path):
    yaml_text = "hidden-size: 32\nquantiles: [0.1, 0.9]\nkind: gru\ndata: d.csv\nepochs: 3\nprogress: false\nclip: null\n"
    args = _parse(["fit"], yaml_text, tmp_path)
    assert (args.hidden_size, args.quantiles, args.kind, args.data) == (32, [0.1, 0.9], "gru", "d.csv")
    config = train_config_from_args(args)
    assert config == TrainConfig(max_epochs=3, progress=False, gradient_clip_val=None)
    args = _parse(["fit", "--hidden-size", "4", "--epochs", "2"], yaml_text, tmp_path)
    assert args.hidden_size == 4 and args.max_epochs == 2 and args.data == "d.csv"


def test_command_defaults_without_yaml():
    args = _parse(["fit", "--data", "x.csv"])
    assert train_config_from_args(args).max_epochs == 7
    assert train_config_from_args(args, seed=4).seed == 4


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("hidden_sise: 3\n", "unknown option 'hidden_sise' for 'lstmkit fit'; valid: .*hidden-size"),
        ("hidden-size: 2.5\n", "option 'hidden-size': expected an integer, got 2.5"),
        ("kind: rnn\n", "option 'kind': 'rnn' is not one of \\['lstm', 'gru'\\]"),
        ("progress: maybe\n", "option 'progress': expected true or false"),
        ("- a\n- b\n", "expected a mapping of option: value, got list"),
        ("a: [\n", "is not valid YAML"),
    ],
)
def test_bad_yaml_is_a_clear_error(tmp_path, yaml_text, message):
    with pytest.raises(CommandError, match=message):
        _parse(["fit"], yaml_text, tmp_path)


def test_main_maps_library_errors_to_one_line(monkeypatch, capsys):
    def boom(args):
        raise ModelLoadError("no saved model at 'm': the directory does not exist")

    real_register = cli.importlib.import_module("lstmkit.commands.demo").register

    def register(subparsers):
        real_register(subparsers)
        subparsers.choices["demo"].set_defaults(func=boom)

    monkeypatch.setattr(sys.modules["lstmkit.commands.demo"], "register", register)
    assert cli.main(["demo"]) == 2
    assert capsys.readouterr().err == "lstmkit: error: no saved model at 'm': the directory does not exist\n"


def test_summary_table_and_files():
    stream = io.StringIO()
    print_summary(
        "forecast",
        {"LSTM": {"MAE": 10.5, "MASE": 0.81234}, "seasonal naive": {"MAE": 30.0, "MASE": 2.49}},
        files={"forecast": "out/forecast.csv", "plot": Path("out/plot.png")},
        notes=["done"],
        stream=stream,
    )
    text = stream.getvalue()
    assert "== forecast ==" in text
    assert "LSTM            10.5000  0.8123" in text
    assert "seasonal naive  30.0000  2.4900" in text
    assert "  plot      out/plot.png" in text and text.rstrip().endswith("done")
    assert format_table({"a": {"x": 1e-7, "y": None}}).splitlines()[-1] == "a      1.000e-07  -"



def test_building_the_parsers_does_not_load_lightning():
    code = "import sys; from lstmkit import cli; cli.build_parser(); print('lightning' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False", "a command module imports the trainer at import time"


# ----------------------------------------------------------------------------- generated from configs
def _print_config(capsys, *argv: str) -> str:
    assert cli.main([*argv, "--print-config"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [["forecast", "fit"], ["forecast", "backtest"], ["detect", "fit"],
                                     ["classify", "fit"], ["tag", "fit"], ["generate", "fit"],
                                     ["translate", "fit"]])
def test_print_config_round_trips_through_config(command, tmp_path, capsys):
    import yaml

    first = _print_config(capsys, *command, "--hidden-size", "8", "--epochs", "3", "--seed", "5",
                          "--no-progress", "--out", "m")
    saved = tmp_path / "run.yaml"
    saved.write_text(first)
    assert _print_config(capsys, *command, "--config", str(saved)) == first
    effective = yaml.safe_load(first)
    assert effective["model"]["hidden_size"] == 8 and effective["out"] == "m"
    assert effective["train"]["max_epochs"] == 3 and effective["train"]["seed"] == 5
    assert effective["train"]["progress"] is False
    # the command line beats the file, the file beats the task's defaults
    again = yaml.safe_load(_print_config(capsys, *command, "--config", str(saved), "--epochs", "4"))
    assert again["train"]["max_epochs"] == 4 and again["model"]["hidden_size"] == 8


def test_flat_yaml_of_the_older_layout_still_reads(tmp_path, capsys):
    import yaml

    flat = tmp_path / "flat.yaml"
    flat.write_text("horizon: 6\nseason-length: 12\nepochs: 2\nprogress: false\nval-data: v.csv\n")
    effective = yaml.safe_load(_print_config(capsys, "forecast", "fit", "--config", str(flat)))
    assert effective["model"]["horizon"] == 6 and effective["model"]["lookback"] is None  # chosen at fit
    assert effective["data"]["season_length"] == 12 and effective["train"]["max_epochs"] == 2
    assert effective["val-data"] == "v.csv"


def test_deprecated_flag_still_works_with_a_one_line_notice(capsys):
    import yaml

    assert cli.main(["forecast", "fit", "--n-models", "3", "--print-config"]) == 0
    captured = capsys.readouterr()
    assert yaml.safe_load(captured.out)["model"]["members"] == 3
    assert captured.err == ("lstmkit: warning: --n-models is deprecated and will be removed in the next "
                            "release; use --members\n")


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("model:\n  hidden_sise: 3\n", "unknown key 'hidden_sise' in section 'model'; valid: .*hidden_size"),
        ("model:\n  hidden_size: 2.5\n", "error: model.hidden_size: expected an integer, got 2.5"),
        ("data:\n  transform: sqrt\n", "'sqrt' is not one of none, log, boxcox"),
        ("train:\n  schedule: sometimes\n", "TrainConfig.schedule: expected one of"),
        ("bogus: 1\n", "unknown key 'bogus'; valid top-level keys"),
    ],
)
def test_bad_sectioned_yaml_is_one_line(tmp_path, capsys, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    assert cli.main(["forecast", "fit", "--config", str(path), "--data", "x.csv", "--out", "m"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error: ") and err.count("\n") == 1
    assert __import__("re").search(message, err), err


def test_required_options_are_checked_after_the_yaml(capsys):
    assert cli.main(["detect", "fit", "--epochs", "1"]) == 2
    assert "required: --data, --out" in capsys.readouterr().err


def test_generated_help_has_a_text_and_one_default_per_flag(capsys):
    for command in (["forecast", "fit"], ["forecast", "backtest"], ["detect", "fit"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for flag in ("--hidden-size", "--epochs", "--resume", "--devices", "--schedule", "--precision",
                     "--run-dir", "--batch-size", *(["--val-data"] if command[1] == "fit" else [])):
            assert flag in text, (command, flag)
        assert "(default: 32)" in text and text.count("(default: 32) (default") == 0
        assert "==SUPPRESS==" not in text
    parser = cli.build_parser()
    for name in ("forecast", "detect"):
        group = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        subs = next(a for a in group._actions if isinstance(a, argparse._SubParsersAction)).choices
        for sub in subs.values():
            for action in sub._actions:
                if action.help != argparse.SUPPRESS:
                    assert action.help and not action.help.startswith(" ("), (name, action.option_strings)


def test_command_line_of_a_task_rebuilds_its_config(capsys):
    import shlex

    import yaml

    from lstmkit.tasks.anomaly import Detect, DetectConfig, DetectModelConfig
    from lstmkit.tasks.forecast import Forecast, default_config

    tasks = [
        Forecast(default_config(52, 52, lookback=104, seasonal_periods=(365.25 / 7,), members=3,
                                quantiles=(0.05, 0.95), linear_skip=False),
                 Forecast.default_train(max_epochs=20, gradient_clip_val=None, progress=False)),
        Detect(DetectConfig(model=DetectModelConfig(detector="reconstruction", window=30)),
               Detect.default_train(max_epochs=30, seed=3)),
    ]
    for task in tasks:
        words = shlex.split(task.command_line(data="x.csv", out="m/"))
        assert words[0] == "lstmkit"
        effective = yaml.safe_load(_print_config(capsys, *words[1:]))
        assert effective.pop("out") == "m/"
        assert effective == task.config_record()
