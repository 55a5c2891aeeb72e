"""``benchmarks/music.py --only FAMILY`` replaces one family and keeps the superseded run beside it."""

from __future__ import annotations

import json


def test_only_bernoulli_keeps_the_previous_run_and_says_what_was_known(tmp_path, monkeypatch, benchmark_script):
    music = benchmark_script("music")
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
