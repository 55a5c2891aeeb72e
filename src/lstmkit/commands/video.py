"""``lstmkit video fit | predict | evaluate``: argument parsing for `lstmkit.tasks.video`.

    lstmkit video fit --data moving:400 --out model/                      # next-frame ConvLSTM
    lstmkit video fit --data actions:900 --objective action --model lrcn --out model/
    lstmkit video predict --model model/ --data clips.npy --out future.npy --strip strip.png
    lstmkit video evaluate --model model/ --data moving:100:test --out report/

Data: a ``.npy`` / ``.npz`` array of clips, a folder of frame folders (or of
class folders of frame folders), or a generator spec (``moving:N``,
``actions:N``; ``:test`` draws from Fashion-MNIST's test images).
``predict`` writes the predicted frames (``.npy``, nextframe) or a CSV of
classes (action); ``evaluate`` writes ``metrics.json`` (the network beside its
baselines) and, for nextframe, ``strip.png``. Every field of the model, data
and train sections is a flag and a key of ``--config FILE.yaml``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lstmkit.commands._common import print_summary
from lstmkit.commands._options import command


def register(subparsers: Any) -> None:
    from lstmkit.tasks.video.config import TRAIN_DEFAULTS, VideoConfig

    parser = subparsers.add_parser("video", help="video: next-frame prediction and clip classification",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="video_command", metavar="SUBCOMMAND", required=True)

    fit = command(sub, "fit", help="train a video model and save it", func=run_fit,
                  config=VideoConfig, train_defaults=TRAIN_DEFAULTS)
    fit.option("--data", required=True, help="training clips (.npy/.npz, frame folders, moving:N, actions:N)")
    fit.option("--out", required=True, help="directory to save the model in")
    fit.option("--val-data", help="validation clips: validation loss per epoch, best epoch kept")

    pred = command(sub, "predict", help="predict future frames or clip classes with a saved model",
                   func=run_predict)
    pred.option("--model", required=True, help="a directory written by 'video fit'")
    pred.option("--data", required=True, help="clips (the first input_frames are the context)")
    pred.option("--out", required=True, help="nextframe: .npy of predicted frames; action: CSV of classes")
    pred.option("--strip", help="nextframe: also write a PNG of the first clip's prediction")

    ev = command(sub, "evaluate", help="score a saved model beside its baselines", func=run_evaluate)
    ev.option("--model", required=True, help="a directory written by 'video fit'")
    ev.option("--data", required=True, help="clips with their true future frames (nextframe) or labels")
    ev.option("--out", help="directory for metrics.json (and strip.png for nextframe)")


def run_fit(args: argparse.Namespace) -> int:
    from lstmkit.tasks.video import Video
    from lstmkit.train.model_dir import check_outputs

    check_outputs(args.out)  # before any training: refuse an unusable model directory
    task = Video(args.config_obj, args.train_config).fit(args.data, val=args.val_data)
    task.save(args.out)
    c, h, w = task.frame_shape
    print_summary("video fit", {task.model_name: {"objective": task.objective, "frames": f"{c}x{h}x{w}",
                                                  "fit_seconds": round(task.fit_seconds, 2)}},
                  files={"model": args.out}, notes=task.fit_summary())
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from lstmkit.io import atomic_path, check_output_path
    from lstmkit.tasks.forecast.io import write_csv_atomic
    from lstmkit.tasks.video import Video

    for path in (args.out, args.strip):
        if path is not None:
            check_output_path(path, kind="file")
    task = Video.load(args.model)
    files: dict[str, Any] = {}
    if task.objective == "action":
        if args.strip:
            raise ValueError("--strip: only for nextframe models (this one classifies clips)")
        frame = task.predict(args.data)
        write_csv_atomic(frame, args.out)
        files["predictions"] = args.out
        rows = {task.model_name: {"clips": len(frame)}}
    else:
        if not str(args.out).endswith(".npy"):
            raise ValueError(f"--out: a nextframe model writes its frames to a .npy file, got {args.out}")
        frames = task.predict_frames(args.data)
        with atomic_path(args.out) as tmp, open(tmp, "wb") as fh:
            np.save(fh, frames)
        files["frames"] = args.out
        if args.strip:
            files["strip"] = task.strip(args.data, args.strip)
        rows = {task.model_name: {"clips": len(frames), "shape": "x".join(map(str, frames.shape))}}
    print_summary("video predict", rows, files=files)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.io import atomic_dir
    from lstmkit.tasks.video import Video

    task = Video.load(args.model)
    report = task.evaluate(args.data)
    files: dict[str, Path] = {}
    if args.out:
        out = Path(args.out)
        with atomic_dir(out) as tmp:
            record = {"data": str(args.data), "model": str(args.model), "report": report}
            (tmp / "metrics.json").write_text(json.dumps(record, indent=2))
            if task.objective == "nextframe":
                task.strip(args.data, tmp / "strip.png")
        files = {"metrics": out / "metrics.json"}
        if task.objective == "nextframe":
            files["strip"] = out / "strip.png"
    keys = ("mse_per_frame", "ssim") if task.objective == "nextframe" else ("accuracy", "macro_f1")
    print_summary("video evaluate", {name: {k: row[k] for k in keys} for name, row in report.items()}, files=files)
    return 0
