"""`Video`: next-frame prediction and clip (action) classification in the one task shape.

    task = Video(VideoConfig()).fit("moving:400")              # encoder-forecaster ConvLSTM
    future = task.predict_frames(clips)                          # (N, 10, C, H, W) in [0, 1]
    task.evaluate("moving:100:test")   # {"convlstm": {mse_per_frame, ssim, ...}, "copy_last": ..., "linear": ...}

    task = Video(VideoConfig(VideoModelConfig(objective="action", model="lrcn"))).fit("actions:900")
    task.predict(clips)                # clip, prediction, p_<class> ...
    task.evaluate("actions:300:test")  # {"lrcn": {accuracy, ...}, "frame_average_cnn": {...}}

Data: anything :func:`~lstmkit.tasks.video.data.read_clips` reads (arrays,
``.npy`` / ``.npz``, folders of frame folders, ``moving:N`` / ``actions:N``).
The training clips fix the channel count and frame size. For ``action``, the
frame-averaging CNN baseline is trained in ``fit`` beside the network (same
epochs, data and seed) and saved with it, because :meth:`Video.evaluate`
reports it.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.tasks.base import Task
from lstmkit.tasks.video.config import TRAIN_DEFAULTS, VideoConfig
from lstmkit.tasks.video.data import Clips, read_clips
from lstmkit.tasks.video.metrics import NEXTFRAME_BASELINES, baseline_forecast, nextframe_metrics
from lstmkit.tasks.video.models import (
    LRCN,
    ConvLSTMClassifier,
    EncoderForecaster,
    FrameAverageCNN,
    VideoModule,
)

ACTION_BASELINES = ("frame_average_cnn",)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro F1 of class indices."""
    from sklearn.metrics import f1_score

    return {"accuracy": float(np.mean(y_true == y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "clips": int(len(y_true))}


class Video(Task):
    """ConvLSTM / LRCN models of clips (see the module docstring)."""

    NAME: ClassVar[str] = "video"
    CONFIG: ClassVar[type] = VideoConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: VideoConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.net: torch.nn.Module | None = None
        self.baseline: torch.nn.Module | None = None
        self.classes: list[str] = []
        self.frame_shape: tuple[int, int, int] = (0, 0, 0)   # (C, H, W) of the training clips

    @property
    def is_fitted(self) -> bool:
        return self.net is not None

    @property
    def objective(self) -> str:
        return self.config.model.objective

    @property
    def model_name(self) -> str:
        """The report's key for the network: ``convlstm`` or ``lrcn``."""
        return "convlstm" if self.objective == "nextframe" else self.config.model.model

    # ------------------------------------------------------------------ data
    def _read(self, data: Any, what: str, fitted: bool = True) -> Clips:
        clips = read_clips(data, what, self.config.data.time_first)
        t, c, h, w = clips.frames.shape[1:]
        if fitted and (c, h, w) != self.frame_shape:
            raise ValueError(f"{what}: frames are (C, H, W) = {(c, h, w)} but the model was trained on "
                             f"{self.frame_shape}")
        return clips

    def _check_length(self, clips: Clips, what: str, need: int) -> None:
        if clips.frames.shape[1] < need:
            raise ValueError(f"{what}: clips have {clips.frames.shape[1]} frames; this needs at least {need}")

    def _targets(self, clips: Clips, what: str) -> np.ndarray:
        if clips.labels is None:
            raise ValueError(f"{what}: action clips need labels (an .npz with 'labels', (clips, labels), "
                             "class folders of clip folders, or actions:N)")
        index = {c: k for k, c in enumerate(self.classes)}
        unknown = sorted(set(clips.labels) - set(index))
        if unknown:
            raise ValueError(f"{what}: label(s) {', '.join(unknown[:5])} were not seen in training")
        return np.array([index[v] for v in clips.labels], dtype=np.int64)

    def _build(self) -> tuple[torch.nn.Module, torch.nn.Module | None]:
        mc = self.config.model
        c = self.frame_shape[0]
        if self.objective == "nextframe":
            return EncoderForecaster(c, mc.hidden_channels, mc.num_layers, mc.kernel_size, mc.patch,
                                     mc.residual), None
        k = len(self.classes)
        if mc.model == "lrcn":
            net = LRCN(c, k, mc.cnn_channels, mc.hidden_size, mc.dropout)
        else:
            net = ConvLSTMClassifier(c, k, mc.hidden_channels, mc.num_layers, mc.kernel_size, mc.patch,
                                     mc.dropout)
        return net, FrameAverageCNN(c, k, mc.cnn_channels)

    # ------------------------------------------------------------------ fit
    def _fit(self, train: Any, val: Any) -> None:
        dc, mc = self.config.data, self.config.model
        clips = self._read(train, "training data", fitted=False)
        self.frame_shape = tuple(int(v) for v in clips.frames.shape[2:])  # type: ignore[assignment]
        _, h, w = self.frame_shape
        if (self.objective == "nextframe" or mc.model == "convlstm") and (h % mc.patch or w % mc.patch):
            raise ValueError(f"training data: frames of {h}x{w} pixels do not split into patch={mc.patch} "
                             "blocks; choose a patch that divides both sides")
        need = dc.input_frames + dc.output_frames
        targets = None
        if self.objective == "nextframe":
            self._check_length(clips, "training data", need)
        else:
            if clips.labels is None:
                self._targets(clips, "training data")
            self.classes = sorted(set(clips.labels))
            if len(self.classes) < 2:
                raise ValueError(f"training data: needs at least two classes, found {len(self.classes)}")
            targets = self._targets(clips, "training data")
        frames = clips.frames
        val_frames, val_targets = None, None
        if val is not None:
            vclips = self._read(val, "validation data")
            if self.objective == "nextframe":
                self._check_length(vclips, "validation data", need)
            else:
                val_targets = self._targets(vclips, "validation data")
            val_frames = vclips.frames
        elif dc.val_fraction > 0 and len(frames) >= 4:
            order = np.random.default_rng(self.train_config.seed).permutation(len(frames))
            cut = max(1, int(round(dc.val_fraction * len(frames))))
            val_idx, fit_idx = np.sort(order[:cut]), np.sort(order[cut:])
            val_frames = frames[val_idx]
            if targets is not None:
                val_targets = targets[val_idx]
                targets = targets[fit_idx]
            frames = frames[fit_idx]
        if self.objective == "nextframe":
            frames = frames[:, :need]
            val_frames = None if val_frames is None else val_frames[:, :need]
        seed = self.train_config.seed
        torch.manual_seed(seed)
        net, baseline = self._build()
        module = VideoModule(net, self.train_config, dc.input_frames, dc.output_frames)
        loader = self._loader(frames, targets, True, seed)
        val_loader = None if val_frames is None else self._loader(val_frames, val_targets, False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            self._train_member(module, loader, val_loader)
        self.net = net.cpu().eval()
        if baseline is not None:
            self.baseline = self._train_baseline(baseline, frames, targets, val_frames, val_targets)
        if val_frames is not None:
            if self.objective == "nextframe":
                pred = self._forecast(val_frames[:, : dc.input_frames])
                truth = val_frames[:, dc.input_frames: need]
                self.val_metrics = {"val_mse_per_frame": nextframe_metrics(pred, truth)["mse_per_frame"]}
            else:
                acc = float(np.mean(self._proba(self.net, val_frames).argmax(1) == val_targets))
                self.val_metrics = {"val_accuracy": acc}

    def _loader(self, frames: np.ndarray, targets: np.ndarray | None, shuffle: bool, seed: int = 0) -> DataLoader:
        tensors = [torch.from_numpy(np.ascontiguousarray(frames))]
        if targets is not None:
            tensors.append(torch.from_numpy(targets))
        return DataLoader(TensorDataset(*tensors), batch_size=self.config.data.batch_size, shuffle=shuffle,
                          generator=torch.Generator().manual_seed(seed) if shuffle else None)

    def _train_baseline(self, net: torch.nn.Module, frames: np.ndarray, targets: np.ndarray,
                        val_frames: np.ndarray | None, val_targets: np.ndarray | None) -> torch.nn.Module:
        """The frame-averaging CNN: Adam, the same epochs, batch size and seed; best validation epoch kept."""
        cfg = self.train_config
        torch.manual_seed(cfg.seed)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        loader = self._loader(frames, targets, True, cfg.seed)
        best, best_acc = copy.deepcopy(net.state_dict()), -1.0
        for _ in range(cfg.max_epochs):
            net.train()
            for x, y in loader:
                loss = F.cross_entropy(net(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if val_frames is not None:
                acc = float(np.mean(self._proba(net, val_frames).argmax(1) == val_targets))
                if acc > best_acc:
                    best, best_acc = copy.deepcopy(net.state_dict()), acc
        if val_frames is not None:
            net.load_state_dict(best)
        return net.eval()

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def _forecast(self, context: np.ndarray, batch_size: int = 64) -> np.ndarray:
        self.net.eval()
        steps = self.config.data.output_frames
        outs = [self.net(torch.from_numpy(np.ascontiguousarray(context[i:i + batch_size])), steps).numpy()
                for i in range(0, len(context), batch_size)]
        return np.concatenate(outs).astype(np.float32)

    @torch.no_grad()
    def _proba(self, net: torch.nn.Module, frames: np.ndarray, batch_size: int = 64) -> np.ndarray:
        net.eval()
        outs = [torch.softmax(net(torch.from_numpy(np.ascontiguousarray(frames[i:i + batch_size]))), 1).numpy()
                for i in range(0, len(frames), batch_size)]
        return np.concatenate(outs).astype(np.float64)

    def predict_frames(self, data: Any) -> np.ndarray:
        """nextframe: the ``output_frames`` frames after the first ``input_frames`` of each clip,
        ``(N, output_frames, C, H, W)`` in [0, 1]."""
        self._check_fitted("predict_frames")
        if self.objective != "nextframe":
            raise ValueError("predict_frames: this model classifies clips (objective='action'); use predict")
        clips = self._read(data, "data")
        self._check_length(clips, "data", self.config.data.input_frames)
        return self._forecast(clips.frames[:, : self.config.data.input_frames])

    def predict_proba(self, data: Any) -> np.ndarray:
        """action: class probabilities ``(N, K)`` in the order of :attr:`classes`."""
        self._check_fitted("predict_proba")
        if self.objective != "action":
            raise ValueError("predict_proba: this model predicts frames (objective='nextframe')")
        return self._proba(self.net, self._read(data, "data").frames)

    def predict(self, data: Any) -> pd.DataFrame:
        """action: one row per clip (clip, prediction, p_<class>); nextframe: one row per clip and
        future step (clip, step, mean intensity, and mse / ssim where the clip holds the true frames).
        The predicted frames themselves: :meth:`predict_frames`."""
        self._check_fitted("predict")
        clips = self._read(data, "data")
        if self.objective == "action":
            proba = self._proba(self.net, clips.frames)
            frame = pd.DataFrame({"clip": clips.names, "prediction": [self.classes[k] for k in proba.argmax(1)]})
            for k, c in enumerate(self.classes):
                frame[f"p_{c}"] = proba[:, k]
            if clips.labels is not None:
                frame["label"] = clips.labels
            return frame
        dc = self.config.data
        self._check_length(clips, "data", dc.input_frames)
        pred = self._forecast(clips.frames[:, : dc.input_frames])
        n, steps = pred.shape[:2]
        frame = pd.DataFrame({"clip": np.repeat(clips.names, steps), "step": np.tile(np.arange(1, steps + 1), n),
                              "mean": pred.mean(axis=(2, 3, 4)).ravel().astype(np.float64)})
        truth = clips.frames[:, dc.input_frames: dc.input_frames + steps]
        if truth.shape[1] == steps:
            from lstmkit.tasks.video.metrics import ssim_frames

            frame["mse"] = ((pred.astype(np.float64) - truth) ** 2).sum(axis=(2, 3, 4)).ravel()
            frame["ssim"] = ssim_frames(pred, truth).ravel()
        return frame

    def evaluate(self, data: Any, baselines: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
        """The network beside the baselines on the same clips.

        nextframe: ``mse_per_frame``, ``mse_per_pixel``, ``ssim`` and their per-step lists
        (baselines ``copy_last``, ``linear``: always reported unless ``baselines=()``);
        action: ``accuracy``, ``macro_f1`` (baseline ``frame_average_cnn``).
        """
        self._check_fitted("evaluate")
        clips = self._read(data, "evaluation data")
        if self.objective == "action":
            y = self._targets(clips, "evaluation data")
            report = {self.model_name: classification_metrics(y, self._proba(self.net, clips.frames).argmax(1))}
            for name in ACTION_BASELINES if baselines is None else baselines:
                if name not in ACTION_BASELINES:
                    raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(ACTION_BASELINES)}")
                report[name] = classification_metrics(y, self._proba(self.baseline, clips.frames).argmax(1))
            return report
        dc = self.config.data
        self._check_length(clips, "evaluation data", dc.input_frames + dc.output_frames)
        context = clips.frames[:, : dc.input_frames]
        truth = clips.frames[:, dc.input_frames: dc.input_frames + dc.output_frames]
        report = {self.model_name: nextframe_metrics(self._forecast(context), truth)}
        for name in NEXTFRAME_BASELINES if baselines is None else baselines:
            report[name] = nextframe_metrics(baseline_forecast(name, context, dc.output_frames), truth)
        return report

    def strip(self, data: Any, path: Any, index: int = 0) -> Any:
        """Write a PNG of clip ``index``: its input frames, the true future, the prediction and the
        two baselines (nextframe), one row each."""
        from lstmkit.tasks.video.metrics import prediction_strip

        frames = self.predict_frames(data)
        clips = self._read(data, "data")
        if not 0 <= index < len(clips):
            raise ValueError(f"index: expected 0 <= index < {len(clips)}, got {index}")
        dc = self.config.data
        context = clips.frames[index, : dc.input_frames]
        truth = clips.frames[index, dc.input_frames: dc.input_frames + dc.output_frames]
        rows = {self.model_name: frames[index]}
        for name in NEXTFRAME_BASELINES:
            rows[name] = baseline_forecast(name, context[None], dc.output_frames)[0]
        prediction_strip(context, truth if len(truth) else None, rows, path)
        return path

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        state = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        if self.baseline is not None:
            state.update({f"baseline.{k}": v for k, v in self.baseline.state_dict().items()})
        return state

    def _extras(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "frame_shape": list(self.frame_shape)}

    def _restore(self, saved: Any) -> None:
        import dataclasses

        self.classes = [str(c) for c in saved.extras["classes"]]
        self.frame_shape = tuple(int(v) for v in saved.extras["frame_shape"])  # type: ignore[assignment]
        net, baseline = self._build()
        state = saved.state_dict
        for prefix, module in (("net.", net), ("baseline.", baseline)):
            if module is None:
                continue
            own = {n[len(prefix):]: t for n, t in state.items() if n.startswith(prefix)}
            dataclasses.replace(saved, state_dict=own).load_into(module)
        self.net, self.baseline = net.eval(), None if baseline is None else baseline.eval()
