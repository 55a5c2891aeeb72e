"""Adapters of the numeric tasks: forecast, detect, seqclass, music (see :mod:`lstmkit.inspect.adapters`).

``Sample.series`` carries what is drawn above the gate traces, on one shared
step axis ``x``: the input ``channels``, an ``overlay`` on them (the forecast
median with its outer quantile ``band``), separate ``lines`` (an anomaly
score, a running class probability), ``marks`` (flagged points, labelled
anomalies) and ``trace_start``, the index in ``x`` of the first traced step.

* forecast: the encoder reads the last ``lookback`` (real) steps of each
  series; the traces sit under those steps, the forecast after them.
* detect: the detector restarts its LSTM on every window of ``window``
  steps, so there is no single run over the series. The trace at step j is
  the LSTM's last step on the window ending at j (for the prediction
  detector: the state that predicts j + 1), i.e. exactly the state behind
  each score, one row per window.
* seqclass: the LSTM branch over the whole (preprocessed) series.
* music: the LSTM over the frames (frame models) or the interleaved
  soprano/alto/tenor/bass stream (voice model).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.inspect.adapters import Limits, Sample, capture
from lstmkit.inspect.adapters.text import WHAT, _first, clip
from lstmkit.inspect.traces import GateTrace

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _label(value: Any) -> str:
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def _floats(values: Any) -> list[float | None]:
    return [None if v is None or not np.isfinite(v) else float(v) for v in values]


def forecast_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Each series of a long table: history, forecast median and band, encoder traces under its last steps."""
    _, y_q = task.predict_arrays(data)                                  # (N, H, Q) original units
    win, panel, _, stamps = task.prepare_windows(data)
    net = task.nets[0]
    net.eval()
    qs = list(task.config.model.quantiles)
    mid, lo, hi = qs.index(0.5) if 0.5 in qs else len(qs) // 2, 0, len(qs) - 1
    out = []
    for i in range(min(len(panel), limits.sequences)):
        with capture(net.encoder) as cap, torch.no_grad():
            net(torch.as_tensor(win.enc[i:i + 1], dtype=torch.float32),
                torch.as_tensor(win.dec[i:i + 1], dtype=torch.float32),
                None if win.length is None else torch.as_tensor(win.length[i:i + 1], dtype=torch.long))
        traces = cap.traces(net.encoder)
        n_traced = next(iter(traces.values())).length
        keep = max(limits.steps, n_traced)
        hist = np.asarray(panel.y[i], dtype=np.float64)[-keep:]
        ds = list(panel.ds[i])[-keep:]
        horizon = y_q.shape[1]
        pad = [None] * (len(hist) - 1) + [float(hist[-1])]  # the forecast continues from the last value
        gap = [None] * horizon
        series = {
            "x": [_label(d) for d in ds] + [_label(d) for d in stamps[i]],
            "channels": {"y": _floats(hist) + gap},
            "overlay": {"forecast": pad + _floats(y_q[i, :, mid])},
            "band": {"low": pad + _floats(y_q[i, :, lo]), "high": pad + _floats(y_q[i, :, hi]),
                     "name": f"q{qs[lo]:g}-q{qs[hi]:g}"},
            "lines": {}, "marks": {}, "trace_start": len(hist) - n_traced,
        }
        tokens = [_label(d) for d in ds[len(hist) - n_traced:]]
        median = ", ".join(f"{v:.4g}" for v in y_q[i, :, mid])
        out.append(Sample(f"series {panel.ids[i]!r}", tokens, traces, f"forecast: {median}", series=series))
    if not out:
        raise ValueError(f"{WHAT}: no series to show")
    return out


def window_end_traces(layer: torch.nn.Module, windows: np.ndarray, chunk: int = 256) -> dict[str, GateTrace]:
    """Per layer/direction, the gates at the last step of each window ``(N, L, C)``, one row per window."""
    was = layer.training
    layer.eval()
    parts: dict[str, dict[str, list[torch.Tensor]]] = {}
    try:
        with torch.no_grad():
            for s in range(0, len(windows), chunk):
                x = torch.as_tensor(windows[s:s + chunk], dtype=torch.float32)
                _, _, gates = layer(x, return_gates=True)
                for key, values in gates.items():
                    for name, v in values.items():
                        last = v[:, -1] if layer.batch_first else v[-1]
                        parts.setdefault(key, {}).setdefault(name, []).append(last.cpu())
    finally:
        layer.train(was)
    return {key: GateTrace(key, {n: torch.cat(v) for n, v in values.items()}, len(windows))
            for key, values in parts.items()}


def detect_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """The series of a table (or values): its first ``steps`` points, score, flags, window-end traces."""
    from numpy.lib.stride_tricks import sliding_window_view

    task._check_fitted("predict")
    x, series = task._read(data, WHAT, min_length=task.window + 1)
    result = task.score(x)
    window = task.window
    n = min(len(x), max(limits.steps, window + 1))
    z = ((x[:n] - task.mean) / task.std).astype(np.float32)            # (n, C)
    windows = task.centre(sliding_window_view(z, window, axis=0).transpose(0, 2, 1))  # (n-L+1, L, C), as the net reads them
    net = task.net
    layer = net.lstm if hasattr(net, "lstm") else net.encoder
    traces = window_end_traces(layer, windows)
    index = list(range(len(x))) if series is None else list(series.index)
    labels = [_label(v) for v in index[:n]]
    channels = {(f"value {c}" if x.shape[1] > 1 else "value"): _floats(x[:n, c]) for c in range(x.shape[1])}
    marks = {"flagged": [int(i) for i in np.flatnonzero(result.flags[:n])]}
    if series is not None and series.labels is not None:
        marks["labelled anomaly"] = [int(i) for i in np.flatnonzero(np.asarray(series.labels)[:n])]
    view = {"x": labels, "channels": channels, "overlay": {}, "lines": {"score": _floats(result.scores[:n])},
            "marks": marks, "trace_start": window - 1}
    flagged = int(result.flags.sum())
    title = f"series ({len(x)} points" + (f", first {n} shown)" if n < len(x) else ")")
    return [Sample(title, labels[window - 1:], traces,
                   f"{flagged} of {len(x)} points flagged, {len(result.intervals)} interval(s)", series=view)]


def seqclass_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Each series of a .ts file or long CSV (labels optional): channels, class, LSTM traces."""
    from lstmkit.tasks.seqclass.data import pad

    task._check_fitted("predict")
    seqs, prepared = task._prepare(data, WHAT)
    net = task.nets[0]
    net.eval()
    proba = task._proba(prepared[: limits.sequences])
    out = []
    for i, s in enumerate(_first(prepared, limits, WHAT)):
        x, lengths = pad([s])
        with capture(net.lstm) as cap, torch.no_grad():
            net(x, lengths)
        n = min(len(s), limits.steps)
        k = int(proba[i].argmax())
        lines = {}
        if not net.bidirectional and net.fcn is None:  # a running class probability makes sense
            with torch.no_grad():
                steps = torch.softmax(net.step_logits(x, lengths), dim=2)[0, :n, k]
            lines[f"p({task.classes[k]}) so far"] = _floats(steps.double().numpy())
        arr = np.asarray(s, dtype=np.float64).reshape(len(s), -1)[:n]
        view = {"x": [str(t) for t in range(n)],
                "channels": {f"channel {c}": _floats(arr[:, c]) for c in range(arr.shape[1])},
                "overlay": {}, "lines": lines, "marks": {}, "trace_start": 0}
        output = f"{task.classes[k]} (" + ", ".join(f"{c} {p:.2f}" for c, p in zip(task.classes, proba[i])) + ")"
        if seqs.labels is not None:
            output += f"; label {seqs.labels[i]}"
        out.append(Sample(f"series {seqs.ids[i]!r}", [str(t) for t in range(n)], clip(cap.traces(net.lstm), n),
                          output, series=view))
    return out


def pitch_name(pitch: int) -> str:
    """MIDI pitch -> scientific name (60 -> "C4")."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def music_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Pieces ("jsb", "bach", MIDI/MusicXML paths or pieces): frames (or voice tokens) and log p per step."""
    from lstmkit.tasks.music.encoding import (
        HOLD,
        REST,
        VOICES,
        frames_to_roll,
        interleave,
        token_pitch,
    )

    task._check_fitted("predict")
    pieces = _first(task.pieces(data, split="test"), limits, WHAT)
    model = task.model
    model.eval()
    out = []
    for i, piece in enumerate(pieces):
        if task.config.model.frames:
            d = task.config.data
            frames = list(piece)[: limits.steps]
            roll = torch.as_tensor(frames_to_roll(frames, d.low, d.high), dtype=torch.float32)[None]
            with capture(model.lstm) as cap, torch.no_grad():
                logp = model.log_prob(roll)[0]
            tokens = [".".join(pitch_name(p) for p in f) or "rest" for f in frames]
        else:
            stream = interleave(np.asarray(piece, dtype=np.int64))[: limits.steps]
            ids = torch.as_tensor(stream)[None]
            with capture(model.lstm) as cap, torch.no_grad():
                logits = model(ids)[0]
            logp = torch.log_softmax(logits, -1).gather(1, ids[0][:, None])[:, 0]

            def name(k: int, t: int) -> str:
                word = "rest" if t == REST else "hold" if t == HOLD else pitch_name(token_pitch(t))
                return f"{VOICES[k % 4][0].upper()}:{word}"

            tokens = [name(k, int(t)) for k, t in enumerate(stream)]
        notes = [f"log p {v:.2f}" for v in logp.tolist()]
        out.append(Sample(f"piece {i + 1}", tokens, cap.traces(model.lstm), f"mean log p per step "
                          f"{float(logp.mean()):.3f}", notes=notes))
    return out
