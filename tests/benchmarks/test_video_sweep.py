"""benchmarks/video.py --no-test / --from-sweep: the sweep never touches a test set, the final uses the
candidate with the best validation score and scores test once."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def bench(monkeypatch, tmp_path):
    """(video.py, _video_seq.py) with tiny synthetic data in place of Fashion-MNIST and MNIST-1D; every call
    of a loader is logged, so a test can see which splits were read."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_video", BENCH / "video.py")
    video = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(video)
    seq = sys.modules["_video_seq"]
    calls: list[str] = []
    rng = np.random.default_rng(0)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, n)
        return (rng.integers(0, 255, (n, 28, 28)) // (1 + labels[:, None, None])).astype(np.uint8), labels

    train, test = images(1600), images(300)

    def fashion(split: str):
        calls.append(f"fashion:{split}")
        return train if split == "train" else test

    def mnist1d(with_test: bool):
        calls.append(f"mnist1d:test={with_test}")
        x, y = rng.normal(size=(500, 40, 1)).astype(np.float32), rng.integers(0, 10, 500)
        return (x, y, x[:100], y[:100]) if with_test else (x, y, None, None)

    import lstmkit.tasks.video as task

    monkeypatch.setattr(task, "load_fashion_mnist", fashion)
    monkeypatch.setattr(seq, "mnist1d_arrays", mnist1d)
    monkeypatch.setattr(video, "sweep_path", lambda args: tmp_path / "video_validation.quick.json")
    yield video, seq, calls, tmp_path
    for name in ("_video_seq", "_video_selection", "_common"):
        sys.modules.pop(name, None)


def test_sweep_reads_no_test_split_and_the_final_uses_the_chosen_candidate(bench):
    video, seq, calls, tmp = bench
    ckpt = ["--checkpoints", str(tmp / "ckpt")]
    assert video.main(["--quick", "--no-test", "--sections", "fmnist_rows", "mnist1d",
                       "--out", str(tmp / "video_validation.json"), *ckpt]) == 0
    assert calls and all(c in ("fashion:train", "mnist1d:test=False") for c in calls)
    sweep = json.loads((tmp / "video_validation.quick.json").read_text())
    assert len(sweep["selection"]["protocol"]) > 20
    for name, section in sweep["sections"].items():
        scores = sweep["selection"]["validation_scores"][name]
        assert list(scores) == list(seq.SWEEP[name])[: seq.QUICK_CANDIDATES]
        assert section["chosen"] == max(scores, key=scores.get) == sweep["selection"]["chosen"][name]
    folds = sweep["sections"]["mnist1d"]["candidates"]["h128_e60"]["folds"]
    assert [f["train_size"] for f in folds] == [200, 200]  # 2 quick folds of the 400 quick series

    calls.clear()
    out = tmp / "video.json"  # a quick run writes video.quick.json and merges into it
    (tmp / "video.quick.json").write_text(json.dumps({"sections": {"fmnist_rows": {"test_accuracy": 0.5}}, "selection": {}}))
    assert video.main(["--quick", "--from-sweep", "--sections", "fmnist_rows", "mnist1d",
                       "--out", str(out), *ckpt]) == 0
    assert calls.count("fashion:test") == 1 and calls.count("mnist1d:test=True") == 1
    final = json.loads((tmp / "video.quick.json").read_text())["sections"]
    assert final["fmnist_rows_previous_run"] == {"test_accuracy": 0.5}  # the superseded run is kept
    chosen = sweep["sections"]["fmnist_rows"]["chosen"]
    assert final["fmnist_rows"]["candidate"] == chosen
    assert final["fmnist_rows"]["val_accuracy"] == sweep["sections"]["fmnist_rows"]["candidates"][chosen][
        "val_accuracy"]
    assert 0 <= final["fmnist_rows"]["test_accuracy"] <= 1 and 0 <= final["mnist1d"]["test_accuracy"] <= 1
    assert final["mnist1d"]["candidate"] == sweep["sections"]["mnist1d"]["chosen"]
    third = json.loads((tmp / "video.quick.json").read_text())["selection"]["third_run"]
    assert third["chosen"] == sweep["selection"]["chosen"]
    assert third["validation_scores"] == sweep["selection"]["validation_scores"]


def test_final_refuses_weights_that_do_not_match_the_sweep(bench):
    video, seq, _, tmp = bench
    assert video.main(["--quick", "--no-test", "--sections", "fmnist_rows", "--checkpoints", str(tmp / "c"),
                       "--out", str(tmp / "video_validation.json")]) == 0
    sweep = json.loads((tmp / "video_validation.quick.json").read_text())["sections"]["fmnist_rows"]
    sweep["candidates"][sweep["chosen"]]["val_accuracy"] += 0.01
    with pytest.raises(RuntimeError, match="validation"):
        seq.fmnist_final(sweep, tmp / "c", with_test=False)


def test_chosen_is_the_best_validation_score_first_on_ties(bench):
    _, seq, _, _ = bench
    assert seq._chosen({"a": 0.5, "b": 0.7, "c": 0.7}) == "b"
    for name, listed in seq.SWEEP.items():
        full = seq.candidates(name, quick=False)
        for cand, overrides in listed.items():
            assert {k: v for k, v in full[cand].items() if seq.BASE[name].get(k) != v} == overrides


@pytest.mark.parametrize("argv", [["--no-test", "--sections", "action"], ["--from-sweep"]])
def test_sweep_options_outside_the_sequence_sections_are_one_line_errors(bench, argv, capsys):
    video, _, _, _ = bench
    assert video.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lstmkit: error:") and "\n" not in err


def _has_fashion() -> bool:
    from lstmkit.tasks.video.synth import fashion_dir

    return (fashion_dir() / "t10k-images-idx3-ubyte.gz").is_file()


@pytest.mark.skipif(not _has_fashion(), reason="Debian dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("committed_mse,chosen", [(1e9, "e40"), (0.0, "committed_run")])
def test_nextframe_sweep_against_the_committed_run(bench, monkeypatch, committed_mse, chosen):
    """The committed run's validation MSE stands beside the candidates; the final scores test only when a
    candidate beat it, from the saved model (its validation MSE re-checked)."""
    video, _, _, tmp = bench
    done = tmp / "committed.json"
    done.write_text(json.dumps({"sections": {"nextframe": {"settings": {}, "val_mse_per_frame": committed_mse}}}))
    monkeypatch.setattr(video, "committed_path", lambda args: done)
    ckpt = ["--checkpoints", str(tmp / "ckpt")]
    assert video.main(["--quick", "--no-test", "--sections", "nextframe", *ckpt,
                       "--out", str(tmp / "video_validation.json")]) == 0
    sweep = json.loads((tmp / "video_validation.quick.json").read_text())
    assert sweep["selection"]["chosen"]["nextframe"] == chosen
    assert "test" not in sweep["sections"]["nextframe"]["candidates"]["e40"]
    out = tmp / "video.json"
    prior = {"settings": {}, "val_mse_per_frame": committed_mse}
    (tmp / "video.quick.json").write_text(json.dumps({"sections": {"nextframe": prior}, "selection": {}}))
    assert video.main(["--quick", "--from-sweep", "--sections", "nextframe", *ckpt, "--out", str(out)]) == 0
    sections = json.loads((tmp / "video.quick.json").read_text())["sections"]
    if chosen == "committed_run":
        assert sections == {"nextframe": prior}
    else:
        assert sections["nextframe_previous_run"] == prior
        assert sections["nextframe"]["candidate"] == "e40" and set(sections["nextframe"]["test"]) == {
            "convlstm", "copy_last", "linear"}
