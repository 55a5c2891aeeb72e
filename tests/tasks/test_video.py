"""The video task: readers, generators, metrics, baselines, Video fit/predict/evaluate/save/load, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit.cli import main
from lstmkit.tasks.video import (
    ACTIONS,
    Video,
    VideoConfig,
    VideoDataConfig,
    VideoModelConfig,
    action_clips,
    load_fashion_mnist,
    moving_objects,
    nextframe_metrics,
    read_clips,
)
from lstmkit.tasks.video.metrics import copy_last, linear_extrapolation
from lstmkit.tasks.video.synth import fashion_dir

needs_fashion = pytest.mark.skipif(not (fashion_dir() / "t10k-images-idx3-ubyte.gz").is_file(),
                                   reason="Debian dataset-fashion-mnist is not installed")


def _bars(n: int, frames: int = 6, size: int = 8, seed: int = 0) -> np.ndarray:
    """Tiny clips (n, frames, size, size): a bright column moving right one pixel per frame."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, frames, size, size), dtype=np.float32)
    for i in range(n):
        start = int(rng.integers(0, size))
        for t in range(frames):
            out[i, t, :, (start + t) % size] = 1.0
    return out


def _moves(n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Tiny labelled clips: a dot moving left or right."""
    rng = np.random.default_rng(seed)
    clips = np.zeros((n, 5, 1, 8, 8), dtype=np.float32)
    labels = []
    for i in range(n):
        right = i % 2 == 0
        row, start = int(rng.integers(0, 8)), int(rng.integers(2, 6))
        for t in range(5):
            clips[i, t, 0, row, (start + (t if right else -t)) % 8] = 1.0
        labels.append("right" if right else "left")
    return clips, labels


def _train(**changes):
    return Video.default_train(**{"max_epochs": 2, "progress": False, "warmup_steps": 0, **changes})


NEXT = VideoConfig(VideoModelConfig(hidden_channels=4, num_layers=1, patch=2),
                   VideoDataConfig(input_frames=3, output_frames=3, batch_size=4))


# ------------------------------------------------------------------ readers
def test_read_clips_layouts(tmp_path):
    bars = _bars(3)
    assert read_clips(bars).frames.shape == (3, 6, 1, 8, 8)
    last = np.repeat(bars[..., None], 3, axis=-1)                    # (N, T, H, W, 3)
    assert read_clips(last).frames.shape == (3, 6, 3, 8, 8)
    assert read_clips(np.swapaxes(bars, 0, 1), time_first=True).frames.shape == (3, 6, 1, 8, 8)
    u8 = read_clips((bars * 255).astype(np.uint8)).frames
    assert u8.dtype == np.float32 and u8.max() == 1.0
    np.save(tmp_path / "c.npy", bars)
    np.savez(tmp_path / "c.npz", clips=bars, labels=np.array(["a", "b", "a"]))
    assert read_clips(str(tmp_path / "c.npy")).frames.shape == (3, 6, 1, 8, 8)
    z = read_clips(tmp_path / "c.npz")
    assert list(z.labels) == ["a", "b", "a"]


def test_read_frame_folders(tmp_path):
    import matplotlib.image as mpimg

    bars = _bars(4, frames=3)
    for i, clip in enumerate(bars):
        folder = tmp_path / ("up" if i % 2 else "down") / f"clip{i}"
        folder.mkdir(parents=True)
        for t, frame in enumerate(clip):
            mpimg.imsave(folder / f"{t:03d}.png", frame, cmap="gray", vmin=0, vmax=1)
    clips = read_clips(tmp_path)
    assert clips.frames.shape == (4, 3, 1, 8, 8)
    assert sorted(clips.labels) == ["down", "down", "up", "up"]
    np.testing.assert_allclose(clips.frames[:, :, 0], bars[[0, 2, 1, 3]],
                               atol=0.01)


@pytest.mark.parametrize("data,message", [
    (np.zeros((2, 3, 4)), "expected clips"),
    (np.zeros((0, 3, 4, 4)), "empty clips"),
    (np.zeros((2, 0, 4, 4)), "empty clips"),
    ([np.zeros((3, 4, 4)), np.zeros((3, 5, 4))], "differ in shape"),
    (np.full((1, 2, 4, 4), np.nan), "finite"),
    (np.zeros((2, 3, 9, 9, 9)), "channel axis"),
    ("missing.npy", "does not exist"),
    ("moving:x", "bad generator spec"),
    ((np.zeros((2, 3, 4, 4)), ["a"]), "1 labels for 2 clips"),
])
def test_read_clips_errors_are_one_line(data, message):
    with pytest.raises(ValueError) as err:
        read_clips(data)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_folder_with_mismatched_frame_sizes(tmp_path):
    import matplotlib.image as mpimg

    for name, size in (("a", 8), ("b", 6)):
        (tmp_path / name).mkdir()
        mpimg.imsave(tmp_path / name / "0.png", np.zeros((size, size)), cmap="gray")
    with pytest.raises(ValueError, match="differ in shape"):
        read_clips(tmp_path)


# ------------------------------------------------------------------ generators
@needs_fashion
def test_fashion_mnist_and_generators_are_deterministic():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and labels.max() == 9
    a = moving_objects(3, frames=6, size=40, seed=5, split="test")
    b = moving_objects(3, frames=6, size=40, seed=5, split="test")
    assert a.shape == (3, 6, 1, 40, 40) and np.array_equal(a, b)
    assert not np.array_equal(a, moving_objects(3, frames=6, size=40, seed=6, split="test"))
    assert 0 <= a.min() and a.max() <= 1 and a.max() > 0.5
    assert np.abs(np.diff(a, axis=1)).sum() > 0          # objects move
    clips, names = action_clips(len(ACTIONS) * 2, frames=6, size=32, seed=0, split="test")
    assert clips.shape == (18, 6, 1, 32, 32) and sorted(set(names)) == sorted(ACTIONS)
    # "right" moves mass rightwards, "left" leftwards
    cols = np.arange(32)
    centre = lambda clip, t: (clip[t, 0].sum(0) * cols).sum() / clip[t, 0].sum()  # noqa: E731
    for clip, name in zip(clips, names):
        if name == "right":
            assert centre(clip, -1) > centre(clip, 0) + 4
        if name == "left":
            assert centre(clip, -1) < centre(clip, 0) - 4


# ------------------------------------------------------------------ metrics and baselines
def test_baselines_and_metrics():
    ctx = np.zeros((1, 2, 1, 4, 4), dtype=np.float32)
    ctx[0, 0, 0, 0, 0], ctx[0, 1, 0, 0, 0] = 0.2, 0.5
    np.testing.assert_allclose(copy_last(ctx, 3)[0, :, 0, 0, 0], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(linear_extrapolation(ctx, 3)[0, :, 0, 0, 0], [0.8, 1.0, 1.0])  # clipped at 1
    truth = np.random.default_rng(0).random((2, 3, 1, 8, 8)).astype(np.float32)
    perfect = nextframe_metrics(truth, truth)
    assert perfect["mse_per_frame"] == 0 and abs(perfect["ssim"] - 1) < 1e-9
    off = nextframe_metrics(np.clip(truth + 0.1, 0, 1), truth)
    assert 0 < off["mse_per_frame"] <= 64 * 0.01 + 1e-9 and off["ssim"] < 1
    assert off["mse_per_pixel"] == pytest.approx(off["mse_per_frame"] / 64)
    assert len(off["mse_by_step"]) == 3


# ------------------------------------------------------------------ the task
def test_nextframe_fit_predict_evaluate_save_load(tmp_path):
    clips = _bars(12)
    task = Video(NEXT, _train()).fit(clips)
    future = task.predict_frames(clips[:, :3])
    assert future.shape == (12, 3, 1, 8, 8) and 0 <= future.min() and future.max() <= 1
    report = task.evaluate(clips)
    assert list(report) == ["convlstm", "copy_last", "linear"]
    # the bar moves exactly one pixel a frame: linear extrapolation cannot follow, copy-last is wrong
    assert report["copy_last"]["mse_per_frame"] > 0
    frame = task.predict(clips)
    assert list(frame.columns) == ["clip", "step", "mean", "mse", "ssim"] and len(frame) == 36
    assert "mse" not in task.predict(clips[:, :3]).columns       # no true future: no error columns
    task.strip(clips, tmp_path / "strip.png")
    assert (tmp_path / "strip.png").stat().st_size > 1000
    task.save(tmp_path / "m")
    again = Video.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict_frames(clips), task.predict_frames(clips))


@pytest.mark.parametrize("residual,factor", [(False, 0.5), (True, 0.75)])
def test_nextframe_learns_more_than_copy_last(residual, factor):
    """Enough steps on moving bars to beat the copy-last baseline (the model learns the motion)."""
    clips = _bars(64, seed=1)
    cfg = VideoConfig(VideoModelConfig(hidden_channels=8, num_layers=1, patch=1, kernel_size=3, residual=residual),
                      VideoDataConfig(input_frames=3, output_frames=3, batch_size=16, val_fraction=0.0))
    task = Video(cfg, _train(max_epochs=40, lr=1e-2)).fit(clips)
    report = task.evaluate(_bars(16, seed=2))
    assert report["convlstm"]["mse_per_frame"] < factor * report["copy_last"]["mse_per_frame"], report


@pytest.mark.parametrize("model", ["lrcn", "convlstm"])
def test_action_fit_predict_evaluate_save_load(model, tmp_path):
    clips, labels = _moves(16)
    cfg = VideoConfig(VideoModelConfig(objective="action", model=model, hidden_channels=4, num_layers=1,
                                       patch=2, hidden_size=6, cnn_channels=4),
                      VideoDataConfig(batch_size=8))
    task = Video(cfg, _train()).fit((clips, labels))
    assert task.classes == ["left", "right"]
    frame = task.predict((clips, labels))
    assert list(frame.columns) == ["clip", "prediction", "p_left", "p_right", "label"]
    np.testing.assert_allclose(frame[["p_left", "p_right"]].sum(1), 1.0, rtol=1e-6)
    report = task.evaluate((clips, labels))
    assert list(report) == [model, "frame_average_cnn"]
    task.save(tmp_path / "m")
    again = Video.load(tmp_path / "m")
    assert again.evaluate((clips, labels)) == report


def test_task_errors_are_one_line():
    clips = _bars(8)
    with pytest.raises(ValueError, match="clips have 6 frames; this needs at least 8"):
        Video(VideoConfig(VideoModelConfig(patch=2), VideoDataConfig(input_frames=4, output_frames=4)),
              _train()).fit(clips)
    with pytest.raises(ValueError, match="patch=3"):
        Video(VideoConfig(VideoModelConfig(patch=3), NEXT.data), _train()).fit(clips)
    with pytest.raises(ValueError, match="need labels"):
        Video(VideoConfig(VideoModelConfig(objective="action")), _train()).fit(clips)
    task = Video(NEXT, _train(max_epochs=1)).fit(clips)
    with pytest.raises(ValueError, match=r"frames are \(C, H, W\) = \(1, 6, 6\)"):
        task.predict_frames(np.zeros((2, 6, 6, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="objective='nextframe'"):
        task.predict_proba(clips)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        VideoModelConfig(kernel_size=4)


# ------------------------------------------------------------------ CLI
FAST = ["--epochs", "1", "--no-progress", "--warmup-steps", "0", "--batch-size", "4"]


def test_cli_nextframe(tmp_path, capsys):
    np.save(tmp_path / "clips.npy", _bars(8))
    model = tmp_path / "model"
    assert main(["video", "fit", "--data", str(tmp_path / "clips.npy"), "--out", str(model), "--patch", "2",
                 "--hidden-channels", "4", "--num-layers", "1", "--input-frames", "3", "--output-frames", "3",
                 *FAST]) == 0
    assert "video fit" in capsys.readouterr().out
    out = tmp_path / "future.npy"
    assert main(["video", "predict", "--model", str(model), "--data", str(tmp_path / "clips.npy"),
                 "--out", str(out), "--strip", str(tmp_path / "strip.png")]) == 0
    assert np.load(out).shape == (8, 3, 1, 8, 8) and (tmp_path / "strip.png").is_file()
    report = tmp_path / "report"
    assert main(["video", "evaluate", "--model", str(model), "--data", str(tmp_path / "clips.npy"),
                 "--out", str(report)]) == 0
    assert "copy_last" in capsys.readouterr().out
    metrics = json.loads((report / "metrics.json").read_text())
    assert list(metrics["report"]) == ["convlstm", "copy_last", "linear"] and (report / "strip.png").is_file()


def test_cli_action_and_errors(tmp_path, capsys):
    clips, labels = _moves(8)
    np.savez(tmp_path / "moves.npz", clips=clips, labels=np.array(labels))
    model = tmp_path / "model"
    assert main(["video", "fit", "--data", str(tmp_path / "moves.npz"), "--out", str(model), "--objective",
                 "action", "--model", "lrcn", "--hidden-size", "4", "--cnn-channels", "4", *FAST]) == 0
    out = tmp_path / "pred.csv"
    assert main(["video", "predict", "--model", str(model), "--data", str(tmp_path / "moves.npz"),
                 "--out", str(out)]) == 0
    assert out.read_text().startswith("clip,prediction,p_left,p_right")
    capsys.readouterr()
    np.save(tmp_path / "flat.npy", np.zeros((3, 4)))
    for argv, message in (
        (["video", "fit", "--data", str(tmp_path / "flat.npy"), "--out", str(tmp_path / "m2"), *FAST],
         "expected clips"),
        (["video", "predict", "--model", str(model), "--data", str(tmp_path / "moves.npz"),
          "--out", str(out), "--strip", str(tmp_path / "s.png")], "--strip"),
        (["video", "evaluate", "--model", str(model), "--data", str(tmp_path / "nothing.npz")], "does not exist"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("lstmkit: error:") and message in err and "\n" not in err


def test_residual_forecaster_starts_as_copy_last():
    import torch

    from lstmkit.tasks.video import EncoderForecaster

    torch.manual_seed(0)
    net = EncoderForecaster(1, 4, 1, 3, 2, residual=True)
    ctx = torch.rand(2, 3, 1, 8, 8) * 0.9 + 0.05
    out = net(ctx, 4)
    torch.testing.assert_close(out, ctx[:, -1:].expand(-1, 4, -1, -1, -1), atol=1e-5, rtol=1e-5)
    plain = EncoderForecaster(1, 4, 1, 3, 2, residual=False)
    assert (plain(ctx, 4) - ctx[:, -1:]).abs().max() > 0.1


def test_prediction_strip_leaves_the_plotting_backend_alone(tmp_path):
    import matplotlib

    from lstmkit.tasks.video.metrics import prediction_strip

    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a user's choice that is not Agg
    try:
        frames = np.random.default_rng(0).random((3, 1, 8, 8))
        prediction_strip(frames, frames, {"model": frames}, tmp_path / "strip.png")
        assert (tmp_path / "strip.png").read_bytes()[:4] == b"\x89PNG"
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
