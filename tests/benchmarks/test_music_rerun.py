"""``benchmarks/music.py --only FAMILY`` replaces one family and keeps the superseded run beside it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _music_script():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_music_rerun", BENCH / "music.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_only_bernoulli_keeps_the_previous_run_and_says_what_was_known(tmp_path, monkeypatch):
    music = _music_script()
    new = {"selected": {"hidden_size": 300, "valid": 7.9}, "test": 7.89, "candidates": []}
    monkeypatch.setattr(music, "frame_family", lambda kind, quick, seed: (dict(new), None))
    old = {"selected": {"hidden_size": 200, "valid": 8.23}, "test": 8.306, "candidates": []}
    nade = {"selected": {"hidden_size": 200}, "test": 5.65}
    out = tmp_path / "music.json"
    out.write_text(json.dumps({"selection": {"protocol": "valid only", "validation_scores": "models.*"},
                               "models": {"bernoulli": old, "nade": nade}, "harmonisation": {"x": 1}}))
    music.rerun_one("bernoulli", out, quick=False, seed=0)
    report = json.loads(out.read_text())
    assert report["models"]["bernoulli"] == new and report["bernoulli_previous_run"] == old
    assert report["models"]["nade"] == nade and report["harmonisation"] == {"x": 1}  # not recomputed
    assert report["selection"]["choices"]["bernoulli"] == music.RERUN_CHOICES["bernoulli"]
    assert "8.306" in music.RERUN_CHOICES["bernoulli"]  # the test figure known when the grid was chosen
    assert report["selection"]["protocol"] == "valid only"
