"""Atomic writers: complete files or nothing, readable permissions, nothing left behind."""

import json
import stat

import pytest

from lstmkit.io import atomic_dir, atomic_write_json, atomic_write_text


def test_atomic_write_text_and_json(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "x.txt", "héllo\n")
    assert p.read_text(encoding="utf-8") == "héllo\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
    q = atomic_write_json(tmp_path / "m.json", {"x": 1.5})
    assert json.loads(q.read_text()) == {"x": 1.5}
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a", "m.json"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = atomic_write_json(tmp_path / "m.json", {"ok": True})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()}, default=None)
    assert json.loads(target.read_text()) == {"ok": True}
    assert [f.name for f in tmp_path.iterdir()] == ["m.json"]


def test_atomic_dir_all_or_nothing(tmp_path):
    with atomic_dir(tmp_path / "out") as d:
        (d / "a.csv").write_text("1")
    assert (tmp_path / "out" / "a.csv").read_text() == "1"
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "out2") as d:
            (d / "a.csv").write_text("1")
            raise RuntimeError("crash")
    assert not (tmp_path / "out2").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out"]
