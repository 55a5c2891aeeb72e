"""Saved models: integrity (SHA-256), strict headers, sane sizes, normal permissions, strict JSON.

A flipped bit in ``model.safetensors``, a ``format_version`` that is a bool,
a size of three million in ``config.json`` or an emptied ``config`` /
``extras`` section are each one ``ModelLoadError`` line (one CLI error line
for every text task), never a traceback or a huge allocation.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_tasks import TASKS

from lstmkit.cli import main
from lstmkit.io import atomic_dir, atomic_write_json, atomic_write_text, dumps_json
from lstmkit.train import ModelLoadError, load_model, save_model

USE = {  # the command that loads each task's model, given the model path and a data folder
    "classify": lambda m, d: ["classify", "predict", "--model", m, "--data", str(d / "train.tsv"),
                              "--out", str(d / "p.csv")],
    "tag": lambda m, d: ["tag", "predict", "--model", m, "--data", str(d / "train.conll"), "--out", str(d / "p.conll")],
    "translate": lambda m, d: ["translate", "translate", "--model", m, "--data", str(d / "train.en"),
                               "--out", str(d / "p.txt")],
    "generate": lambda m, d: ["generate", "sample", "--model", m, "--prime", "The ", "--max-length", "5"],
    "speech": lambda m, d: ["speech", "transcribe", "--model", m, str(d / "u0.wav")],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """One tiny trained model per text task: task -> (model dir, data folder)."""
    out = {}
    for task, build in TASKS.items():
        d = tmp_path_factory.mktemp(task)
        assert main(build(d) + ["--epochs", "1", "--no-progress", "--out", str(d / "model")]) == 0
        out[task] = (d / "model", d)
    return out


def _copy(model: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in model.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return dest


def _edit(model: Path, change) -> None:
    header = json.loads((model / "config.json").read_text())
    change(header)
    (model / "config.json").write_text(json.dumps(header))


def _cli_one_line(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error:") and err.count("\n") == 1, err
    return err


# --------------------------------------------------------------------------- integrity
def test_a_flipped_bit_in_the_weights_is_detected(tmp_path):
    path = save_model(tmp_path / "m", task="t", config={"a": 1}, state_dict={"w": torch.arange(64.0)})
    data = bytearray((path / "model.safetensors").read_bytes())
    data[-7] ^= 0x04  # inside the tensor data: the file still parses
    (path / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="SHA-256 does not match"):
        load_model(path)


def test_format_version_must_be_an_int_not_a_bool(tmp_path):
    path = save_model(tmp_path / "m", task="t", config={"a": 1}, state_dict={"w": torch.ones(2)})
    _edit(path, lambda h: h.update(format_version=True))
    with pytest.raises(ModelLoadError, match="format_version"):
        load_model(path)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_bit_flip_in_each_task_model_is_one_cli_line(task, models, tmp_path, capsys):
    model, data = models[task]
    bad = _copy(model, tmp_path / "bad")
    raw = bytearray((bad / "model.safetensors").read_bytes())
    raw[-3] ^= 0x10
    (bad / "model.safetensors").write_bytes(bytes(raw))
    assert "SHA-256" in _cli_one_line(capsys, USE[task](str(bad), data))


# --------------------------------------------------------------------------- sizes and sections
def _set_size(header: dict, value: int) -> None:
    """Set every size-like integer of the config to ``value``."""
    def walk(d):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v)
            elif isinstance(v, int) and not isinstance(v, bool) and ("hidden" in k or k.endswith(("_size", "_dim"))):
                d[k] = value
    walk(header["config"])


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("damage", ["huge_size", "negative_size", "empty_config", "empty_extras", "no_sections"])
def test_damaged_config_json_is_one_cli_line(task, damage, models, tmp_path, capsys):
    model, data = models[task]
    bad = _copy(model, tmp_path / "bad")
    change = {
        "huge_size": lambda h: _set_size(h, 3_000_000),
        "negative_size": lambda h: _set_size(h, -4),
        "empty_config": lambda h: h.update(config={}),
        "empty_extras": lambda h: h.update(extras={}),
        "no_sections": lambda h: [h.pop("config"), h.pop("extras")],
    }[damage]
    _edit(bad, change)
    err = _cli_one_line(capsys, USE[task](str(bad), data))
    assert "bad" in err  # names the model


def test_missing_key_of_a_section_is_a_model_load_error(tmp_path):
    path = save_model(tmp_path / "m", task="t", config={"model": {"hidden": 4}}, state_dict={"w": torch.ones(1)})
    saved = load_model(path)
    assert saved.config["model"]["hidden"] == 4
    with pytest.raises(ModelLoadError, match=r"'config\.model\.layers' is missing"):
        saved.config["model"]["layers"]
    with pytest.raises(ModelLoadError, match=r"'extras\.vocab' is missing"):
        saved.extras["vocab"]


# --------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_get_normal_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        model = save_model(tmp_path / "m", task="t", config={"a": 1}, state_dict={"w": torch.ones(2)})
        text = atomic_write_text(tmp_path / "out.txt", "x")
        with atomic_dir(tmp_path / "folder") as tmp:
            (tmp / "a.csv").write_text("1\n")
    finally:
        os.umask(old)

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(model) == mode(tmp_path / "folder") == 0o777 & ~umask
    assert mode(model / "config.json") == mode(model / "model.safetensors") == mode(text) == 0o666 & ~umask


# --------------------------------------------------------------------------- strict JSON
def test_json_writers_never_write_nan_or_infinity(tmp_path):
    values = {"a": math.nan, "b": [1.0, math.inf, -math.inf], "c": np.float64("nan"), "d": np.array([1.0, np.inf])}
    text = dumps_json(values)
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} written")) == {
        "a": None, "b": [1.0, None, None], "c": None, "d": [1.0, None]}
    path = atomic_write_json(tmp_path / "m.json", {"x": math.inf})
    assert json.loads(path.read_text()) == {"x": None}


def test_save_model_refuses_non_finite_config_and_nan_weights(tmp_path):
    with pytest.raises(ValueError, match=r"config\.model\.bias is not a finite number"):
        save_model(tmp_path / "m", task="t", config={"model": {"bias": math.nan}}, state_dict={"w": torch.ones(1)})
    with pytest.raises(ValueError, match="tensor 'w' holds NaN"):
        save_model(tmp_path / "m", task="t", config={"a": 1}, state_dict={"w": torch.full((2,), math.nan)})
    assert not (tmp_path / "m").exists()
