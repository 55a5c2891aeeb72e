"""Saved-model directories: round trip, atomic writes, and a one-line error for every bad directory."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from train_helpers import fresh_model

from lstmkit import __version__
from lstmkit.train import FORMAT_VERSION, ModelLoadError, SavedModel, load_model, save_model


@dataclass(frozen=True)
class TinyConfig:
    hidden: int = 16
    name: str = "tiny"


@pytest.fixture
def saved(tmp_path):
    model = fresh_model()
    extras = {"scale": np.array([1.5, 2.0]), "vocab": ["a", "b"], "mean": np.float32(0.25)}
    path = save_model(tmp_path / "m", task="tiny", config=TinyConfig(), state_dict=model.state_dict(),
                      extras=extras)
    return model, path


def test_round_trip_gives_identical_predictions(saved):
    model, path = saved
    loaded = load_model(path, task="tiny")
    assert isinstance(loaded, SavedModel)
    assert loaded.task == "tiny" and loaded.config == {"hidden": 16, "name": "tiny"}
    assert loaded.extras == {"scale": [1.5, 2.0], "vocab": ["a", "b"], "mean": 0.25}
    assert loaded.format_version == FORMAT_VERSION and loaded.lstmkit_version == __version__
    rebuilt = fresh_model(seed=123)
    loaded.load_into(rebuilt)
    model.eval(), rebuilt.eval()
    x = torch.randn(7, 4)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))
    header = json.loads((path / "config.json").read_text())
    assert set(header) >= {"format_version", "task", "lstmkit_version", "config", "extras", "tensors"}
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]


def test_overwrite_replaces_and_leaves_no_temporaries(saved, tmp_path):
    _, path = saved
    save_model(path, task="other", config={}, state_dict={"w": torch.ones(2)})
    assert load_model(path).task == "other"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_failed_save_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="JSON-serializable"):
        save_model(tmp_path / "m", task="t", config={"f": object()}, state_dict={"w": torch.ones(1)})
    with pytest.raises(TypeError, match="expected a tensor"):
        save_model(tmp_path / "m", task="t", config={}, state_dict={"w": [1.0]})
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_to_clobber_other_directories(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an lstmkit saved model .*refusing"):
        save_model(tmp_path / "docs", task="t", config={}, state_dict={})
    assert (tmp_path / "docs" / "notes.txt").read_text() == "keep me"


def test_shared_tensors_are_saved(tmp_path):
    weight = torch.randn(3, 3)
    state = {"a": weight, "b": weight, "view": weight[0]}  # tied weights and a view
    loaded = load_model(save_model(tmp_path / "m", task="t", config={}, state_dict=state))
    assert torch.equal(loaded.state_dict["b"], weight) and torch.equal(loaded.state_dict["view"], weight[0])


def _edit_header(path, **changes):
    header = json.loads((path / "config.json").read_text())
    header.update(changes)
    (path / "config.json").write_text(json.dumps(header))


BROKEN = {
    "missing": (lambda p: p.parent / "absent", "no saved model at '.*absent': the directory does not exist"),
    "file": (lambda p: (p.parent / "f.txt").write_text("x") and p.parent / "f.txt", "it is a file"),
    "no_config": (lambda p: (p / "config.json").unlink() or p, "not a saved model: config.json is missing"),
    "bad_json": (lambda p: (p / "config.json").write_text("{oops") and p, "corrupt config.json in '.*': Expecting"),
    "not_object": (lambda p: (p / "config.json").write_text("[1]") and p, "expected a JSON object"),
    "no_task": (lambda p: _edit_header(p, task=None) or p, "field 'task' is missing or not a str"),
    "too_new": (lambda p: _edit_header(p, format_version=FORMAT_VERSION + 1) or p,
                f"format_version {FORMAT_VERSION + 1}, newer than the {FORMAT_VERSION}.*upgrade lstmkit"),
    "no_weights": (lambda p: (p / "model.safetensors").unlink() or p, "incomplete: model.safetensors is missing"),
    "bad_weights": (lambda p: (p / "model.safetensors").write_bytes(b"\x00" * 5) and p,
                    "corrupt model.safetensors in"),
    "truncated": (lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:-40]) and p,
                  "corrupt model.safetensors in"),
    "missing_tensor": (lambda p: _edit_header(p, tensors={"net.0.weight": [16, 4], "head.w": [1]}) or p,
                       r"lacks tensors \['head.w'\]"),
    "wrong_shape": (lambda p: _edit_header(p, tensors={"net.0.weight": [4, 16]}) or p,
                    r"tensor 'net.0.weight' has shape \[16, 4\], config.json says \[4, 16\]"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_every_broken_directory_gives_one_line(saved, case):
    _, path = saved
    breaker, message = BROKEN[case]
    target = breaker(path)
    with pytest.raises(ModelLoadError, match=message) as info:
        load_model(target)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_wrong_task(saved):
    _, path = saved
    with pytest.raises(ModelLoadError, match="holds a 'tiny' model, expected a 'forecast' model"):
        load_model(path, task="forecast")


def test_load_into_a_different_architecture(saved):
    _, path = saved
    loaded = load_model(path)
    with pytest.raises(ModelLoadError, match=r"does not fit a Linear: missing tensors \['bias', 'weight'\]"):
        loaded.load_into(torch.nn.Linear(4, 16))
    other = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    wrapper = torch.nn.Module()
    wrapper.net = other
    with pytest.raises(ModelLoadError, match=r"tensor 'net.0.weight' has shape \[16, 4\], the model expects \[8, 4\]"):
        loaded.load_into(wrapper)
