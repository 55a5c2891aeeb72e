"""What ``lstmkit export MODEL_DIR`` exports for each task: the network, its inputs, its axes.

Each task's network is wrapped in a small module whose inputs and outputs are
plain tensors, with example inputs built at two sizes (the example, and the
unseen check sizes). Inputs are what the network takes *after* the task's own
preprocessing (token ids from its vocabulary, scaled windows); the tokenizer,
scaler and decoding loop stay on the caller's side.

===========  =======================================================  ===============
task         program (inputs -> outputs)                              dynamic axes
===========  =======================================================  ===============
classify     tokens (B, T), lengths (B,) -> logits (B, C)              batch, time
             [, attention (B, T)]
tag          words (B, T), lengths, chars (U, C), char_lengths (U,),   batch, time,
             word_index (B, T) -> emissions (B, T, K)                  words, chars
generate     ids (B, T), h_0, c_0 (L, B, H) -> logits, h_n, c_n        batch, time
translate    two programs: ``*.encoder.*``: src (B, S), src_len ->     batch, source
             keys, mask, h, c; ``*.step.*``: prev (B,), h, c, feed,
             keys, mask -> logits, h, c, feed [, attention]
forecast     encoder window (B, L, F), decoder features (B, H, Fk)    batch
             -> quantiles (B, H, Q) (model scale)
detect       window (B, L, C) -> prediction (B, C) (predictor) or      batch [, time]
             reconstruction (B, L, C) (encoder-decoder)
seqclass     series (B, T, C), lengths (B,) -> logits (B, K)           batch, time
music        frames: roll (B, T, P) -> log p per frame (B, T);         batch, time
             voices: tokens (B, N) -> logits (B, N, V)
video        clips (B, T, C, H, W) -> logits (B, K) (LRCN,            batch, time
             ConvLSTM); nextframe: context (B, T, C, H, W) ->
             frames (B, F, C, H, W), F fixed
===========  =======================================================  ===============

Refused, with one line: classify and tag models with subword or lexicon
features (ragged bags of n-grams are not fixed-rank tensor inputs). The CRF of
a tagger is not part of the program: decode its emissions with the
transitions in ``model.safetensors`` (``crf.*``), or take the arg-max.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.exporter.errors import ExportError

Inputs = Callable[[int, int], tuple[Tensor, ...]]
"""inputs(batch, steps) -> the program's inputs at that size."""


@dataclass
class Program:
    """One exported program of a task: module, inputs at two sizes, axes, output names."""

    name: str
    module: nn.Module
    inputs: Inputs
    dynamic: dict[str, dict[int, str]]
    outputs: list[str]
    input_names: list[str] = field(default_factory=list)

    def example(self) -> tuple[Tensor, ...]:
        return self.inputs(2, 5)

    def check(self) -> tuple[Tensor, ...]:
        return self.inputs(5, 9)


def _ids(gen: torch.Generator, low: int, high: int, *shape: int) -> Tensor:
    return torch.randint(low, max(high, low + 1), shape, generator=gen)


def _lengths(batch: int, steps: int, gen: torch.Generator) -> Tensor:
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    lengths[0] = steps  # the longest fills the padded axis
    return lengths


class _Call(nn.Module):
    """Calls ``fn(net, *inputs)``: a named program around a task's network."""

    def __init__(self, net: nn.Module, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.net = net
        self.fn = fn

    def forward(self, *inputs: Tensor) -> Any:
        return self.fn(self.net, *inputs)


def _program(name: str, net: nn.Module, fn: Callable[..., Any], inputs: Inputs, names: list[str],
             dynamic: dict[str, dict[int, str]], outputs: list[str]) -> Program:
    return Program(name, _Call(net, fn), inputs, dynamic, outputs, names)


# ---------------------------------------------------------------------------- per task
def classify(task: Any) -> list[Program]:
    net = task.net
    if net.cfg.subword_buckets:
        raise ExportError("classify models with subword features (subword_buckets > 0) cannot be exported: "
                          "their inputs are ragged n-gram bags")
    vocab = net.embed.num_embeddings

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return _ids(gen, 2, vocab, b, t), _lengths(b, t, gen)

    attention = net.cfg.pooling == "attention"
    return [_program("classify", net, lambda n, tokens, lengths: n(tokens, lengths), inputs,
                     ["tokens", "lengths"], {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}},
                     ["logits", "attention"] if attention else ["logits"])]


def tag(task: Any, member: int = 0) -> list[Program]:
    net = _member(task.taggers, member, "tagger").net
    cfg = net.cfg
    if cfg.subword_buckets or cfg.lexicon:
        raise ExportError("tag models with subword or lexicon features cannot be exported: their inputs are "
                          "ragged bags of n-grams / lexicon entries")
    words = net.word_emb.num_embeddings
    chars = net.char_emb.num_embeddings if cfg.char_hidden > 0 else 0

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        base = (_ids(gen, 2, words, b, t), _lengths(b, t, gen))
        if not chars:
            return base
        u, c = b * t, t + 1  # one distinct word per position; words of up to t + 1 characters
        word_index = torch.randperm(u, generator=gen).reshape(b, t)
        return (*base, _ids(gen, 2, chars, u, c), _lengths(u, c, gen), word_index)

    def emissions(n: nn.Module, words_: Tensor, lengths: Tensor, *char_inputs: Tensor) -> Tensor:
        batch = {"words": words_, "lengths": lengths}
        if char_inputs:
            batch.update(chars=char_inputs[0], char_lengths=char_inputs[1], word_index=char_inputs[2])
        return n.emissions(batch)

    names = ["words", "lengths"] + (["chars", "char_lengths", "word_index"] if chars else [])
    dynamic = {"words": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
    if chars:
        dynamic.update(chars={0: "words", 1: "chars"}, char_lengths={0: "words"},
                       word_index={0: "batch", 1: "time"})
    return [_program("tag", net, emissions, inputs, names, dynamic, ["emissions"])]


def generate(task: Any) -> list[Program]:
    net = task.pipeline.model
    lstm = net.lstm
    rows, out = lstm.num_layers, lstm.spec.cell.out_size

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return (_ids(gen, 0, net.vocab_size, b, t), torch.randn(rows, b, out, generator=gen),
                torch.randn(rows, b, lstm.hidden_size, generator=gen))

    def step(n: nn.Module, ids: Tensor, h0: Tensor, c0: Tensor) -> Any:
        logits, (h, c) = n(ids, (h0, c0))
        return logits, h, c

    return [_program("generate", net, step, inputs, ["ids", "h_0", "c_0"],
                     {"ids": {0: "batch", 1: "time"}, "h_0": {1: "batch"}, "c_0": {1: "batch"}},
                     ["logits", "h_n", "c_n"])]


def translate(task: Any) -> list[Program]:
    from lstmkit.tasks.translate.model import EncoderOutput

    net = task.pipeline.model
    cfg = net.config
    layers, hidden = cfg.num_layers, cfg.hidden_size
    src_vocab, tgt_vocab = net.src_embedding.num_embeddings, net.tgt_embedding.num_embeddings
    additive = cfg.attention == "additive"

    def encoder_inputs(b: int, s: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + s)
        return _ids(gen, 2, src_vocab, b, s), _lengths(b, s, gen)

    def encode(n: nn.Module, src: Tensor, src_len: Tensor) -> Any:
        enc, state = n.encode(src, src_len)
        h = torch.stack([st[0] for st in state], 0)  # L x (B, H) -> (L, B, H)
        c = torch.stack([st[1] for st in state], 0)
        return enc.keys, enc.mask, h, c, enc.projected

    def step_inputs(b: int, s: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + s + 1)
        mask = torch.arange(s)[None, :] < _lengths(b, s, gen)[:, None]
        extra = (torch.randn(b, s, hidden, generator=gen),) if additive else ()
        return (_ids(gen, 2, tgt_vocab, b), torch.randn(layers, b, hidden, generator=gen),
                torch.randn(layers, b, hidden, generator=gen), torch.randn(b, hidden, generator=gen),
                torch.randn(b, s, 2 * hidden, generator=gen), mask, *extra)

    def step(n: nn.Module, prev: Tensor, h: Tensor, c: Tensor, feed: Tensor, keys: Tensor, mask: Tensor,
             *projected: Tensor) -> Any:
        enc = EncoderOutput(keys, mask, projected[0] if projected else None)
        state = [(h[k], c[k]) for k in range(layers)]
        logits, state, feed, weights = n.step(prev, state, feed, enc)
        return (logits, torch.stack([st[0] for st in state], 0), torch.stack([st[1] for st in state], 0),
                feed, weights)

    enc_outputs = ["keys", "mask", "h", "c"] + (["projected_keys"] if additive else [])
    step_names = ["prev", "h", "c", "feed", "keys", "mask"] + (["projected_keys"] if additive else [])
    step_dynamic = {"prev": {0: "batch"}, "h": {1: "batch"}, "c": {1: "batch"}, "feed": {0: "batch"},
                    "keys": {0: "batch", 1: "source"}, "mask": {0: "batch", 1: "source"}}
    if additive:
        step_dynamic["projected_keys"] = {0: "batch", 1: "source"}
    step_outputs = ["logits", "h_out", "c_out", "feed_out"] + (["attention"] if cfg.attention != "none" else [])
    return [
        _program("encoder", net, encode, encoder_inputs, ["src", "src_len"],
                 {"src": {0: "batch", 1: "source"}, "src_len": {0: "batch"}}, enc_outputs),
        _program("step", net, step, step_inputs, step_names, step_dynamic, step_outputs),
    ]


def forecast(task: Any, member: int = 0) -> list[Program]:
    net = _member(task.nets, member, "member")
    lookback, horizon = net.config.lookback, net.config.horizon
    width = 1 + net.n_known + net.n_past

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return (torch.randn(b, lookback, width, generator=gen),
                torch.randn(b, horizon, net.n_known, generator=gen))

    return [_program("forecast", net, lambda n, enc, dec: n(enc, dec), inputs, ["encoder", "decoder"],
                     {"encoder": {0: "batch"}, "decoder": {0: "batch"}}, ["quantiles"])]


def detect(task: Any) -> list[Program]:
    net = task.net
    window, channels = task.window, len(task.mean)
    predictor = not hasattr(net, "decoder")

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return (torch.randn(b, t if predictor else window, channels, generator=gen),)

    if predictor:
        return [_program("detect", net, lambda n, x: n(x), inputs, ["window"],
                         {"window": {0: "batch", 1: "time"}}, ["prediction"])]
    # the encoder-decoder scores by feeding back its own outputs, one step per window position:
    # the window length is fixed and the loop is unrolled
    return [_program("detect", net, lambda n, x: n(x, teacher_forcing=False), inputs, ["window"],
                     {"window": {0: "batch"}}, ["reconstruction"])]


def seqclass(task: Any, member: int = 0) -> list[Program]:
    net = _member(task.nets, member, "member")
    channels = net.lstm.input_size

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return torch.randn(b, t + 6, channels, generator=gen), _lengths(b, t + 6, gen)

    return [_program("seqclass", net, lambda n, x, lengths: n(x, lengths), inputs, ["series", "lengths"],
                     {"series": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}, ["logits"])]


def music(task: Any) -> list[Program]:
    from lstmkit.tasks.music.models import FrameModel

    net = task.model
    if isinstance(net, FrameModel):
        def frame_inputs(b: int, t: int) -> tuple[Tensor, ...]:
            gen = torch.Generator().manual_seed(b * 100 + t)
            return ((torch.rand(b, t, net.n_pitches, generator=gen) < 0.1).float(),)

        return [_program("music", net, lambda n, roll: n.log_prob(roll), frame_inputs, ["roll"],
                         {"roll": {0: "batch", 1: "time"}}, ["log_prob"])]
    vocab = net.out.out_features

    def voice_inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return (_ids(gen, 0, vocab, b, t),)

    return [_program("music", net, lambda n, tokens: n(tokens), voice_inputs, ["tokens"],
                     {"tokens": {0: "batch", 1: "time"}}, ["logits"])]


def video(task: Any) -> list[Program]:
    """A classifier (LRCN or ConvLSTM): clips (B, T, C, H, W) -> logits (B, K). Next-frame prediction:
    the context clips (B, T, C, H, W) -> the ``output_frames`` predicted frames (B, F, C, H, W) in [0, 1]
    (F is fixed at export, T is not). Frames are the task's size; batch and time are dynamic."""
    from lstmkit.tasks.video.models import EncoderForecaster

    net = task.net
    channels, height, width = task.frame_shape

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        return (torch.rand(b, t, channels, height, width, generator=gen),)

    if isinstance(net, EncoderForecaster):
        steps = int(task.config.data.output_frames)
        return [_program("video", net, lambda n, clips: n(clips, steps), inputs, ["context"],
                         {"context": {0: "batch", 1: "time"}}, ["frames"])]
    return [_program("video", net, lambda n, clips: n(clips), inputs, ["clips"],
                     {"clips": {0: "batch", 1: "time"}}, ["logits"])]


def speech(task: Any) -> list[Program]:
    """The acoustic network: log-mel features (B, T, F) and lengths -> CTC log-probs (B, T', V) and
    their lengths (T' = T / stack), or word logits (B, K). Feature extraction (``task.front``) and
    CTC decoding stay with the caller."""
    net = task.net
    features = net.lstm.input_size // net.stack

    def inputs(b: int, t: int) -> tuple[Tensor, ...]:
        gen = torch.Generator().manual_seed(b * 100 + t)
        steps = (t + 6) * net.stack
        return torch.randn(b, steps, features, generator=gen), _lengths(b, steps, gen)

    outputs = ["log_probs", "out_lengths"] if net.mode == "ctc" else ["logits", "out_lengths"]
    return [_program("speech", net, lambda n, x, lengths: n(x, lengths), inputs, ["features", "lengths"],
                     {"features": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}, outputs)]


ADAPTERS: dict[str, Callable[..., list[Program]]] = {
    "classify": classify, "tag": tag, "generate": generate, "translate": translate,
    "forecast": forecast, "detect": detect, "seqclass": seqclass, "music": music, "video": video,
    "speech": speech,
}
WITH_MEMBERS = ("tag", "forecast", "seqclass")


def _member(items: list[Any], member: int, what: str) -> Any:
    if not 0 <= member < len(items):
        raise ExportError(f"member: this model has {len(items)} {what}(s); expected 1..{len(items)}, "
                          f"got {member + 1}")
    return items[member]


def load_task(model_dir: str | os.PathLike) -> tuple[str, Any]:
    """``(registry name, loaded task)`` of a saved model directory."""
    from lstmkit.tasks.base import TASKS, task_class
    from lstmkit.train import load_model

    saved = load_model(model_dir)
    for name in TASKS:
        cls = task_class(name)
        if cls.saved_name() == saved.task:
            return name, cls.load(model_dir)
    raise ExportError(f"'{model_dir}' holds a '{saved.task}' model, which has no exporter; "
                      f"exportable tasks: {', '.join(ADAPTERS)}")


def programs(name: str, task: Any, member: int = 1) -> list[Program]:
    """The programs to export for a loaded task (``member``: 1-based, for ensembles)."""
    if name not in ADAPTERS:
        raise ExportError(f"the {name} task has no exporter; exportable tasks: {', '.join(ADAPTERS)}")
    if name in WITH_MEMBERS:
        return ADAPTERS[name](task, member - 1)
    if member != 1:
        raise ExportError(f"member: a {name} model has one network; --member must be 1")
    return ADAPTERS[name](task)


def program_path(out: Path, program: Program, count: int) -> Path:
    """``out`` itself for a single program; ``name.encoder.onnx``-style beside it for several."""
    if count == 1:
        return out
    return out.with_name(f"{out.stem}.{program.name}{out.suffix}")


def export_task(model_dir: str | os.PathLike, format: str, out: str | os.PathLike, member: int = 1,
                tolerance: float | None = None) -> list[Any]:
    """Export a saved task model; one :class:`~lstmkit.exporter.api.ExportResult` per program."""
    from lstmkit.exporter.api import TOLERANCE, export

    name, task = load_task(model_dir)
    progs = programs(name, task, member)
    results = []
    for prog in progs:
        results.append(export(prog.module, prog.example(), format, program_path(Path(out), prog, len(progs)),
                              dynamic=prog.dynamic, check_example=prog.check(),
                              tolerance=TOLERANCE if tolerance is None else tolerance,
                              output_names=prog.outputs, input_names=prog.input_names))
    return results
