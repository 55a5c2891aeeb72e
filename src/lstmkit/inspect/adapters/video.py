"""Adapter of the video task (see :mod:`lstmkit.inspect.adapters`): one step per frame.

* action, LRCN: the frame-level :class:`lstmkit.LSTM` over the CNN features
  of each frame; its units are the LSTM's units.
* action, ConvLSTM classifier, and nextframe (encoder-forecaster): a
  ConvLSTM's state is a stack of maps ``(C_h, H', W')``. The view treats each
  hidden **channel** as a unit and shows, per frame, its gate / state map
  **averaged over the spatial positions**:

  .. math::
      \\bar g_{t,u} = \\frac{1}{H' W'} \\sum_{y,x} g_{t,u,y,x}

  (so saturation counts frames on which the *average* gate is below 0.1 or
  above 0.9, not single positions).
* nextframe: steps ``1..T_in`` are the encoder reading the given frames;
  step ``T_in + k`` is the forecaster, started from the encoder's final
  states, reading the last given frame (k = 1) or its own previous
  prediction and producing predicted frame ``T_in + k``. Each layer's
  encoder and forecaster traces are joined on that one frame axis. The
  series panel shows the mean intensity of the true and predicted frames and,
  where the clip holds the true future, the squared error per frame (summed
  over pixels, the task's ``mse``) of the model and of the copy-last baseline.
* action (both models): the series panel shows each frame's mean intensity
  and mean absolute change from the previous frame, and the probability of
  the predicted class had the clip ended at that frame (the classifier's head
  on the state after frame t; the last value is the prediction).

The traces come from :func:`~lstmkit.inspect.adapters.capture` inside the
network's own forward pass, re-run with ``return_gates=True``, so they are the
states behind the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.inspect.adapters import Captured, Limits, Sample, capture
from lstmkit.inspect.adapters.series import _floats
from lstmkit.inspect.adapters.text import WHAT, _first, clip
from lstmkit.inspect.traces import GateTrace


def conv_gates(layer: torch.nn.Module, x: torch.Tensor, hx: Any,
               index: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    """Per layer/direction, the gate and state maps ``(T, C_h, H', W')`` of clip ``index`` (batch_first layer)."""
    was = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            _, _, gates = layer(x, hx, return_gates=True)
    finally:
        layer.train(was)
    return {key: {name: v[index].detach().cpu() for name, v in values.items()} for key, values in gates.items()}


def spatial_mean(maps: dict[str, dict[str, torch.Tensor]]) -> dict[str, GateTrace]:
    """Each hidden channel as a unit: maps ``(T, C_h, H', W')`` -> traces ``(T, C_h)`` (mean over space)."""
    out = {}
    for key, values in maps.items():
        means = {name: v.mean((-2, -1)) for name, v in values.items()}
        out[key] = GateTrace(key, means, int(next(iter(means.values())).shape[0]))
    return out


def join(parts: list[dict[str, GateTrace]]) -> dict[str, GateTrace]:
    """Traces of consecutive runs of the same layers, joined along the step axis."""
    out = {}
    for key in parts[0]:
        values = {name: torch.cat([p[key].values[name] for p in parts]) for name in parts[0][key].values}
        out[key] = GateTrace(key, values, sum(p[key].length for p in parts))
    return out


def _calls_traces(cap: Captured, layer: torch.nn.Module) -> tuple[dict[str, GateTrace], list[dict]]:
    """Spatial-mean traces of every recorded call of a ConvLSTM, joined, and the raw maps of each call."""
    if not cap.calls:
        raise AssertionError(f"inspect: the {type(layer).__name__} layer was never called")
    maps = [conv_gates(layer, x, hx) for x, hx, _ in cap.calls]
    return join([spatial_mean(m) for m in maps]), maps


def _frame_channels(frames: np.ndarray) -> dict[str, list[float | None]]:
    """Per frame of a clip ``(T, C, H, W)``: mean intensity and mean absolute change from the previous frame."""
    change = np.abs(np.diff(frames.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))
    return {"mean intensity": _floats(frames.mean(axis=(1, 2, 3))), "mean |change|": [None] + _floats(change)}


def _proba_text(classes: list[str], p: np.ndarray) -> str:
    k = int(p.argmax())
    return f"{classes[k]} (" + ", ".join(f"{c} {v:.2f}" for c, v in zip(classes, p)) + ")"


def _action(task: Any, frames: np.ndarray, label: Any, name: str, limits: Limits) -> Sample:
    from lstmkit.tasks.video.models import LRCN

    net = task.net
    net.eval()
    clip_t = torch.from_numpy(np.ascontiguousarray(frames[None]))
    if isinstance(net, LRCN):
        with capture(net.lstm) as cap, torch.no_grad():
            logits = net(clip_t)
        traces = cap.traces(net.lstm)
        top_h = traces[f"l{net.lstm.num_layers - 1}"].values["h"]            # (T, hidden)
        with torch.no_grad():
            running = torch.softmax(net.head(top_h), 1)
    else:
        with capture(net.convlstm) as cap, torch.no_grad():
            logits = net(clip_t)
        traces, maps = _calls_traces(cap, net.convlstm)
        h = maps[0][f"l{net.convlstm.num_layers - 1}"]["h"]                  # (T, C_h, H', W')
        with torch.no_grad():
            running = torch.softmax(net.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1)), 1)
    p = torch.softmax(logits[0], 0).double().numpy()
    k = int(p.argmax())
    n = min(len(frames), limits.steps)
    tokens = [f"frame {t + 1}" for t in range(n)]
    series = {"x": tokens, "channels": _frame_channels(frames[:n]), "overlay": {}, "marks": {},
              "lines": {f"p({task.classes[k]}) if the clip ended here": _floats(running[:n, k].double().numpy())},
              "trace_start": 0}
    notes = [f"p({task.classes[k]}) {float(v):.3f}" for v in running[:n, k]]
    output = _proba_text(task.classes, p) + ("" if label is None else f"; label {label}")
    return Sample(f"clip {name!r}", tokens, clip(traces, n), output, notes=notes, series=series)


def _nextframe(task: Any, frames: np.ndarray, name: str, limits: Limits) -> Sample:
    from lstmkit.tasks.video.metrics import copy_last

    dc = task.config.data
    t_in, steps = dc.input_frames, dc.output_frames
    net = task.net
    net.eval()
    context = frames[:t_in]
    with capture(net.encoder) as enc, capture(net.forecaster) as fc, torch.no_grad():
        pred = net(torch.from_numpy(np.ascontiguousarray(context[None])), steps)[0].numpy()   # (steps, C, H, W)
    enc_traces, _ = _calls_traces(enc, net.encoder)
    fc_traces, _ = _calls_traces(fc, net.forecaster)
    traces = join([enc_traces, fc_traces])
    total = t_in + steps
    n = min(total, limits.steps)
    tokens = [f"in {t + 1}" for t in range(t_in)] + [f"out {t_in + k + 1}" for k in range(steps)]
    truth = frames[t_in:total]
    known = len(truth)
    true_mean = _floats(frames[:total].mean(axis=(1, 2, 3))) + [None] * (total - min(total, len(frames)))
    pred_mean = [None] * (t_in - 1) + [true_mean[t_in - 1]] + _floats(pred.mean(axis=(1, 2, 3)))
    lines: dict[str, list[float | None]] = {}
    notes = [f"encoder reads frame {t + 1}" for t in range(t_in)]
    notes += [f"forecaster reads {'frame ' + str(t_in) if k == 0 else 'its prediction ' + str(t_in + k)}, "
              f"predicts frame {t_in + k + 1}" for k in range(steps)]
    if known:
        se = ((pred[:known].astype(np.float64) - truth) ** 2).sum(axis=(1, 2, 3))
        base = ((copy_last(context[None], known)[0].astype(np.float64) - truth) ** 2).sum(axis=(1, 2, 3))
        after = [None] * (steps - known)                     # predicted frames the clip does not hold
        lines["squared error per frame (convlstm)"] = [None] * t_in + _floats(se) + after
        lines["squared error per frame (copy last)"] = [None] * t_in + _floats(base) + after
        for k in range(known):
            notes[t_in + k] += f"; squared error {se[k]:.4g} (copy last {base[k]:.4g})"
        output = (f"{steps} frame(s) predicted; squared error per frame {se.mean():.4g} "
                  f"(copy last {base.mean():.4g}) over {known} true frame(s)")
    else:
        output = f"{steps} frame(s) predicted (the clip holds no true future frames)"
    series = {"x": tokens[:n], "channels": {"true mean intensity": true_mean[:n]},
              "overlay": {"predicted mean intensity": pred_mean[:n]},
              "lines": {k: v[:n] for k, v in lines.items()}, "marks": {}, "trace_start": 0}
    return Sample(f"clip {name!r}", tokens[:n], clip(traces, n), output, notes=notes[:n], series=series)


def video_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Clips (``.npy`` / ``.npz``, frame folders, ``moving:N`` / ``actions:N``): one step per frame."""
    task._check_fitted("predict")
    clips = task._read(data, WHAT)
    if task.objective == "nextframe":
        task._check_length(clips, WHAT, task.config.data.input_frames)
    chosen = _first(list(range(len(clips))), limits, WHAT)
    out = []
    for i in chosen:
        if task.objective == "nextframe":
            out.append(_nextframe(task, clips.frames[i], clips.names[i], limits))
        else:
            label = None if clips.labels is None else clips.labels[i]
            out.append(_action(task, clips.frames[i], label, clips.names[i], limits))
    return out
