"""Adapter of the speech task (see :mod:`lstmkit.inspect.adapters`): one step per LSTM input frame.

The (Bi)LSTM reads the utterance's normalised features with ``stack``
frames concatenated per step, so step ``t`` (1-based) covers feature frames
``(t-1)·stack + 1 .. t·stack`` (``hop_ms`` apart for audio); the traces have
one row per such step.

* ``ctc``: the step labels follow the greedy (best-path) CTC alignment: a
  step where the path emits a new character (not blank, not a repeat of the
  previous step's id) is labelled with that character, every other step with
  ``·``; so the labels read left to right spell the greedy transcript. Hover:
  the covered frames and the step's most probable symbol. The series panel
  shows the mean feature value per step and ``p(blank)``. The output is the
  task's own transcript (its configured decoder), plus the greedy one where
  they differ, plus the reference when the data has it.
* ``words``: steps are labelled with their index; the output is the word
  and its probabilities; for a unidirectional LSTM the series also shows the
  predicted word's probability had the utterance ended at each step (the head
  on the mean of the outputs so far, or on the last output, as ``pooling``
  says; the last value is the prediction).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lstmkit.inspect.adapters import Limits, Sample, capture
from lstmkit.inspect.adapters.series import _floats
from lstmkit.inspect.adapters.text import WHAT, _first, clip, shown

QUIET = "\u00b7"  # the label of a step where the greedy path emits nothing new


def greedy_emissions(path: list[int], blank: int = 0) -> list[int | None]:
    """Per step, the id the best path emits there (a non-blank id unlike the previous step's), else None."""
    out: list[int | None] = []
    prev = None
    for k in path:
        out.append(k if k != blank and k != prev else None)
        prev = k
    return out


def _span(task: Any, t: int, total: int) -> str:
    """The feature frames (and for audio the time) that LSTM step ``t`` (0-based) reads."""
    k = task.config.model.stack
    a, b = t * k, min((t + 1) * k, total)
    frames = f"frame {a + 1}" if b - a == 1 else f"frames {a + 1}-{b}"
    if task.front.kind == "audio":
        hop = task.config.data.hop_ms / 1000.0
        frames += f" ({a * hop:.2f}-{b * hop:.2f} s)"
    return frames


def _step_means(features: np.ndarray, stack: int, steps: int) -> list[float | None]:
    """The mean feature value of each LSTM step's frames."""
    return _floats([float(features[t * stack:(t + 1) * stack].mean()) for t in range(steps)])


def _one(task: Any, features: np.ndarray, title: str, reference: str | None, limits: Limits) -> Sample:
    from lstmkit.tasks.speech.data import pad

    net = task.net
    net.eval()
    x, lengths = pad([features])
    with capture(net.lstm) as cap, torch.no_grad():
        y, out_lengths = net(x, lengths)
    traces = cap.traces(net.lstm)
    steps = next(iter(traces.values())).length
    n = min(steps, limits.steps)
    stack = task.config.model.stack
    spans = [_span(task, t, len(features)) for t in range(n)]
    series = {"x": [str(t + 1) for t in range(n)], "channels": {"mean feature": _step_means(features, stack, n)},
              "overlay": {}, "lines": {}, "marks": {}, "trace_start": 0}
    if task.ctc:
        lp = y[0, : int(out_lengths[0])].double()                               # (T', V)
        path = lp.argmax(-1).tolist()
        emitted = greedy_emissions(path)
        chars = task.vocab.chars

        def name(k: int) -> str:
            return "blank" if k == 0 else repr(chars[k - 1])

        tokens = [QUIET if e is None else shown(chars[e - 1]) for e in emitted[:n]]
        notes = [f"{spans[t]}; best {name(path[t])} p {float(lp[t, path[t]].exp()):.2f}" for t in range(n)]
        series["lines"]["p(blank)"] = _floats(lp[:n, 0].exp().numpy())
        text = task._decode(lp.numpy())
        greedy_text = task.vocab.decode([e for e in emitted if e is not None])
        output = text if text == greedy_text else f"{text} (greedy: {greedy_text})"
    else:
        p = torch.softmax(y[0].double(), 0).numpy()
        k = int(p.argmax())
        tokens = [str(t + 1) for t in range(n)]
        notes = list(spans)
        output = f"{task.classes[k]} (" + ", ".join(f"{c} {v:.2f}" for c, v in zip(task.classes, p)) + ")"
        if not net.bidirectional:
            h = traces[f"l{net.lstm.num_layers - 1}"].values["h"].double()      # (T', width)
            z = h if net.pooling == "last" else h.cumsum(0) / torch.arange(1, len(h) + 1)[:, None]
            with torch.no_grad():
                running = torch.softmax(net.head(z.float()).double(), 1)[:n, k]
            series["lines"][f"p({task.classes[k]}) if it ended here"] = _floats(running.numpy())
            notes = [f"{s}; p({task.classes[k]}) {float(v):.3f}" for s, v in zip(spans, running)]
    if reference is not None:
        output += f"; reference {reference}"
    return Sample(title, tokens, clip(traces, n), output, notes=notes, series=series)


def speech_samples(task: Any, data: Any, limits: Limits) -> list[Sample]:
    """Utterances (manifest, audio file(s) or folder, or feature arrays): one step per (stacked) frame."""
    from lstmkit.tasks.speech.data import normalise, read_utterances

    task._check_fitted("predict")
    utts = read_utterances(data, task.config.data, WHAT)
    out = []
    for i, source in enumerate(_first(list(utts.sources), limits, WHAT)):
        features = task.front(source)
        reference = None if utts.texts is None else normalise(utts.texts[i], task.config.data.lowercase)
        out.append(_one(task, features, f"utterance {utts.ids[i]!r}", reference, limits))
    return out
