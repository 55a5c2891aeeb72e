"""The music task: ``Music(config, train=...)`` -> ``fit``, ``sample``, ``harmonize``, ``evaluate``, ``save``.

>>> from lstmkit.tasks.music import Music, MusicConfig, MusicModelConfig  # doctest: +SKIP
>>> task = Music(MusicConfig(MusicModelConfig(kind="nade"))).fit("jsb")  # doctest: +SKIP
>>> task.evaluate("jsb")["nade"]["nll_per_frame"]  # doctest: +SKIP
>>> task.write(task.sample(length=64, seed=0)[0], "chorale.mid")  # doctest: +SKIP

Data, wherever a method takes music: ``"jsb"`` (the JSB Chorales split:
``fit`` trains on ``train`` and validates on ``valid`` unless ``val`` is
given, ``evaluate`` scores ``test``), ``"bach"`` (music21's four-part
chorales, split the same way), a path to a MIDI / MusicXML file or folder,
or the pieces themselves: frame lists (``[[60, 64, 67], ...]``) for the frame
models, voice-token arrays ``(4, T)`` for the voice model.

A piece is a frame list (frame models) or a ``(4, T)`` token array (voice
model); :meth:`Music.write` turns either into MIDI, MusicXML or a PNG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from lstmkit.tasks.base import Task

from .baselines import FrameNGram, NoteFrequency, VoiceNGram
from .config import TRAIN_DEFAULTS, MusicConfig
from .data import bach_chorales, load_jsb, music_files, read_folder, score_voices, voices_to_frames
from .encoding import (
    REST,
    VOICES,
    check_frames,
    frames_to_notes,
    frames_to_roll,
    notes_to_tokens,
    roll_to_frames,
    sounding,
    tokens_to_notes,
)
from .files import parse_score, read_parts, write_midi, write_musicxml
from .models import FrameModel, VoiceModel
from .training import FrameCollate, MusicModule, VoiceCollate, frame_nll, voice_nll

CORPORA = ("jsb", "bach")


def _split_of(spec: str) -> tuple[str, str | None]:
    name, _, split = spec.partition(":")
    return name, split or None


class Music(Task):
    """LSTM models of music: piano-roll frames (Bernoulli or NADE output) or four voices."""

    NAME: ClassVar[str] = "music"
    CONFIG: ClassVar[type] = MusicConfig
    TRAIN_DEFAULTS: ClassVar[dict[str, Any]] = TRAIN_DEFAULTS
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: MusicConfig | None = None, train: Any = None) -> None:
        super().__init__(config, train)
        self.model: FrameModel | VoiceModel | None = None
        self.train_pieces: list[Any] = []
        self._baselines: dict[str, Any] | None = None

    # ------------------------------------------------------------------ data
    @property
    def kind(self) -> str:
        return self.config.model.kind

    def pieces(self, data: Any, split: str = "train") -> list[Any]:
        """Resolve ``data`` (see the module docstring) to this model's pieces, checked."""
        frames = self.config.model.frames
        if isinstance(data, (str, os.PathLike)):
            name, named_split = _split_of(os.fspath(data))
            split = named_split or split
            if name == "jsb":
                if not frames:
                    raise ValueError("data 'jsb' has no voice parts (only frames): the voices "
                                     "model trains on 'bach' or four-part MusicXML files")
                pieces = load_jsb()[split]
            elif name == "bach":
                chorales = [v for _, v in bach_chorales()[split]]
                pieces = [voices_to_frames(v, self.config.data.step) for v in chorales] if frames else chorales
            elif frames:
                pieces = read_folder(data, self.config.data.step)
            else:
                pieces = [self._file_voices(f) for f in music_files(data)]
        elif isinstance(data, np.ndarray) and data.ndim == 2 and not frames:
            pieces = [data]
        elif isinstance(data, Sequence):
            pieces = list(data)
        else:
            raise TypeError(f"data: expected a corpus name, a path or a list of pieces, got {type(data).__name__}")
        if not pieces:
            raise ValueError("data: no pieces (an empty list)")
        for i, piece in enumerate(pieces):
            self._check_piece(piece, f"piece {i}")
        return pieces

    @staticmethod
    def _file_voices(path: Path) -> np.ndarray:
        try:
            return score_voices(parse_score(Path(path)))
        except ValueError as exc:
            raise ValueError(f"'{path}': {exc}") from None

    def _check_piece(self, piece: Any, name: str) -> None:
        if self.config.model.frames:
            if isinstance(piece, np.ndarray) or not isinstance(piece, Sequence):
                raise TypeError(f"{name}: expected a list of frames (lists of MIDI pitches)")
            check_frames(piece, self.config.data.low, self.config.data.high, name)
        else:
            voices = np.asarray(piece)
            if voices.ndim != 2 or voices.shape[0] != 4 or voices.shape[1] == 0:
                raise ValueError(f"{name}: expected voice tokens of shape (4, T>0), got {voices.shape}")

    def _rolls(self, pieces: Sequence[Any]) -> list[np.ndarray]:
        d = self.config.data
        return [frames_to_roll(p, d.low, d.high) for p in pieces]

    def _loader(self, pieces: Sequence[Any], train: bool) -> DataLoader:
        d = self.config.data
        if self.config.model.frames:
            items = self._rolls(pieces)
            collate = FrameCollate(d.transpose if train else 0)
        else:
            items = [np.asarray(p, dtype=np.int64) for p in pieces]
            collate = VoiceCollate(d.max_sixteenths if train else None, d.transpose if train else 0)
        return DataLoader(items, batch_size=self.config.batch_size, shuffle=train, collate_fn=collate)

    # ------------------------------------------------------------------ training
    def build_model(self) -> FrameModel | VoiceModel:
        m, d = self.config.model, self.config.data
        if m.frames:
            return FrameModel(d.n_pitches, m.kind, m.hidden_size, m.num_layers, m.dropout, m.nade_size,
                              m.input_dropout, m.zoneout, m.recurrent_dropout)
        return VoiceModel(m.embed_size, m.hidden_size, m.num_layers, m.dropout)

    @property
    def is_fitted(self) -> bool:
        return self.model is not None

    def _fit(self, train: Any, val: Any) -> None:
        """Train on ``train``; a corpus name without ``val`` validates on its ``valid`` split."""
        from lstmkit.train import seed_everything

        if val is None and isinstance(train, str) and _split_of(train)[0] in CORPORA:
            val = f"{_split_of(train)[0]}:valid"
        pieces = self.pieces(train, "train")
        val_pieces = self.pieces(val, "valid") if val is not None else None
        seed_everything(self.train_config.seed)
        self.model = self.build_model()
        module = MusicModule(self.model, self.train_config, self.config.model.ema_decay)
        val_loader = self._loader(val_pieces, False) if val_pieces is not None else None
        self._train_member(module, self._loader(pieces, True), val_loader)
        if module.average is not None:  # keep the averaged weights (of the best epoch when restored)
            self.model.load_state_dict(module.averaged())
        self.model.eval()
        self.train_pieces = pieces
        self._baselines = None
        if val_pieces is not None:  # the kept weights' score (the summary's last line)
            self.val_metrics = {f"val_{k}": v for k, v in self.nll(val_pieces).items() if k.startswith("nll")}

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def nll(self, data: Any, split: str = "test") -> dict[str, float]:
        """The model's negative log-likelihood: per frame (frame models) or per token (voices)."""
        self._check_fitted("nll")
        pieces = self.pieces(data, split)
        self.model.eval()
        total, count = 0.0, 0.0
        for batch in self._loader(pieces, False):
            t, c = (frame_nll if self.config.model.frames else voice_nll)(self.model, *batch)
            total, count = total + float(t), count + float(c)
        unit = "frame" if self.config.model.frames else "token"
        return {f"nll_per_{unit}": total / count, f"{unit}s": int(count), "pieces": len(pieces)}

    def baselines(self) -> dict[str, Any]:
        """The baselines fitted on the training pieces (built on first use)."""
        self._check_fitted("baselines")
        if self._baselines is None:
            order = self.config.data.ngram_order
            if self.config.model.frames:
                rolls = self._rolls(self.train_pieces)
                self._baselines = {"note_frequency": NoteFrequency().fit(rolls),
                                   "ngram": FrameNGram(order).fit(rolls)}
            else:
                streams = [np.asarray(v).T.reshape(-1) for v in self.train_pieces]  # (4, T) -> (4T,)
                self._baselines = {"ngram": VoiceNGram(order).fit(streams)}
        return self._baselines

    def evaluate(self, data: Any = "jsb") -> dict[str, dict[str, float]]:
        """``{kind: metrics, baseline: metrics, ...}`` on ``data`` (a named corpus: its test split).

        Frame models: ``nll_per_frame`` (nats) for the model, the note-frequency
        baseline and the chord n-gram. Voice model: ``nll_per_token`` and
        ``harmonization_accuracy`` (alto/tenor/bass given the soprano, greedy)
        for the model and the token n-gram.
        """
        self._check_fitted("evaluate")
        pieces = self.pieces(data, "test")
        report = {self.kind: self.nll(pieces)}
        if self.config.model.frames:
            rolls = self._rolls(pieces)
            frames = sum(len(r) for r in rolls)
            for name, baseline in self.baselines().items():
                report[name] = {"nll_per_frame": float(-sum(baseline.log_prob(r).sum() for r in rolls) / frames)}
        else:
            ngram = self.baselines()["ngram"]
            guesses = self.harmonize([p[0] for p in pieces], greedy=True)
            report[self.kind]["harmonization_accuracy"] = harmonization_accuracy(guesses, pieces)
            streams = [np.asarray(v).T.reshape(-1) for v in pieces]
            total = sum(-np.log(ngram.distribution(s, i)[s[i]]) for s in streams for i in range(len(s)))
            report["ngram"] = {
                "nll_per_token": float(total / sum(len(s) for s in streams)),
                "harmonization_accuracy": harmonization_accuracy(
                    [ngram.harmonize(p[0]) for p in pieces], pieces),
            }
        return report

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def sample(self, length: int = 64, n: int = 1, soprano: Any = None, temperature: float = 1.0,
               seed: int | None = None) -> list[Any]:
        """``n`` new pieces of ``length`` quarter notes; with ``soprano``, its harmonisation.

        ``soprano``: a melody file (its top part is used), a list of notes or
        soprano tokens ``(T,)``; only the voice model harmonises.
        """
        self._check_fitted("sample")
        if not isinstance(length, int) or length < 1:
            raise ValueError(f"length: expected an int >= 1 (quarter notes), got {length!r}")
        if not temperature > 0:
            raise ValueError(f"temperature: expected a float > 0, got {temperature!r}")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.model.eval()
        if soprano is not None:
            if self.config.model.frames:
                raise ValueError(f"harmonising a soprano needs a voices model (kind='voices'); "
                                 f"this one is {self.kind!r}")
            melody = soprano_tokens(soprano)
            return self.harmonize([melody] * n, greedy=False, temperature=temperature, generator=generator)
        if self.config.model.frames:
            steps = max(1, int(round(length / self.config.data.step)))
            rolls = self.model.sample(n, steps, generator, temperature)  # (n, steps, P)
            return [roll_to_frames(r.numpy(), self.config.data.low) for r in rolls]
        return self._sample_voices(n, 16 * length, None, False, temperature, generator)  # 4 voices x 4 sixteenths

    @torch.no_grad()
    def predict(self, data: Any) -> pd.DataFrame:
        """One row per frame / sixteenth of ``data`` (a named corpus: its test split).

        Frame models: ``piece, frame, pitches, nll`` -- how surprising each
        frame is given the ones before (nats). Voice model: ``piece,
        sixteenth, soprano, alto, tenor, bass`` -- the greedy harmonisation
        of each piece's soprano (sounding MIDI pitch, -1 = rest).
        New music comes from :meth:`sample`.
        """
        self._check_fitted("predict")
        pieces = self.pieces(data, "test")
        rows: list[dict[str, Any]] = []
        if self.config.model.frames:
            self.model.eval()
            for i, roll in enumerate(self._rolls(pieces)):
                logp = self.model.log_prob(torch.as_tensor(roll)[None])[0]  # (T,)
                for t, frame in enumerate(pieces[i]):
                    rows.append({"piece": i, "frame": t, "pitches": " ".join(map(str, frame)),
                                 "nll": -float(logp[t])})
            return pd.DataFrame(rows, columns=["piece", "frame", "pitches", "nll"])
        for i, voices in enumerate(self.harmonize([np.asarray(p)[0] for p in pieces])):
            pitch = np.stack([sounding(row) for row in voices])  # (4, T)
            for t in range(pitch.shape[1]):
                rows.append({"piece": i, "sixteenth": t, **{v: int(pitch[k, t]) for k, v in enumerate(VOICES)}})
        return pd.DataFrame(rows, columns=["piece", "sixteenth", *VOICES])

    @torch.no_grad()
    def harmonize(self, sopranos: Sequence[np.ndarray], greedy: bool = True, temperature: float = 1.0,
                  generator: torch.Generator | None = None) -> list[np.ndarray]:
        """Alto, tenor and bass for each soprano (tokens ``(T,)``) -> voices ``(4, T)`` each."""
        self._check_fitted("harmonize")
        if self.config.model.frames:
            raise ValueError("harmonize needs a voices model (kind='voices')")
        out: list[np.ndarray] = []
        for i in range(0, len(sopranos), 64):  # batches of equal-length sopranos run in lockstep
            chunk = [np.asarray(s, dtype=np.int64) for s in sopranos[i : i + 64]]
            longest = max(len(s) for s in chunk)
            fixed = np.full((len(chunk), longest), REST, dtype=np.int64)
            for j, s in enumerate(chunk):
                fixed[j, : len(s)] = s
            voices = self._sample_voices(len(chunk), 4 * longest, torch.as_tensor(fixed), greedy,
                                         temperature, generator)
            out.extend(v[:, : len(s)] for v, s in zip(voices, chunk))
        return out

    def _sample_voices(self, n: int, steps: int, soprano: torch.Tensor | None, greedy: bool,
                       temperature: float, generator: torch.Generator | None) -> list[np.ndarray]:
        from .models import BOS

        prev = torch.full((n,), BOS, dtype=torch.long)
        state = None
        stream = torch.zeros(n, steps, dtype=torch.long)
        for i in range(steps):
            logits, state = self.model.step(prev, i, state)  # (n, V)
            if soprano is not None and i % 4 == 0:
                token = soprano[:, i // 4]  # the constraint: the soprano is given
            elif greedy:
                token = logits.argmax(-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)[:, 0]
            stream[:, i] = token
            prev = token
        return [s.view(-1, 4).T.numpy().copy() for s in stream]  # (4T,) -> (T, 4) -> (4, T)

    # ------------------------------------------------------------------ output
    def notes(self, piece: Any) -> list[list]:
        """A piece -> its parts as note lists (one part for frames, four for voices)."""
        if self.config.model.frames:
            return [frames_to_notes(piece, self.config.data.step)]
        return [tokens_to_notes(row) for row in np.asarray(piece)]

    def write(self, piece: Any, path: str | os.PathLike) -> Path:
        """Write a piece as ``.mid``, ``.musicxml`` / ``.xml``, a piano-roll ``.png`` or ``.wav``.

        ``.wav`` renders the MIDI through fluidsynth or timidity when one is
        installed (:mod:`~lstmkit.tasks.music.audio`), else a one-line error.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        parts = self.notes(piece)
        names = None if self.config.model.frames else VOICES
        if suffix in (".mid", ".midi"):
            return write_midi(parts, path)
        if suffix in (".musicxml", ".xml"):
            return write_musicxml(parts, path, names)
        if suffix == ".png":
            from lstmkit.io import atomic_savefig

            from .plots import plot_piano_roll

            fig = plot_piano_roll(parts, title=path.stem, names=names)
            atomic_savefig(fig, path, dpi=100)
            import matplotlib.pyplot as plt

            plt.close(fig)
            return path
        if suffix == ".wav":
            import tempfile

            from .audio import render_wav

            with tempfile.TemporaryDirectory() as tmp:
                return render_wav(write_midi(parts, Path(tmp) / "piece.mid"), path)
        raise ValueError(f"'{path}': unknown output type '{suffix}'; use .mid, .musicxml, .png or .wav")

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, torch.Tensor]:
        state = {f"model.{k}": v.detach().clone() for k, v in self.model.state_dict().items()}
        state.update(pack_pieces(self.train_pieces, self.config))
        return state

    def _extras(self) -> dict[str, Any]:
        return {"n_train_pieces": len(self.train_pieces)}

    def _restore(self, saved: Any) -> None:
        from lstmkit.train import ModelLoadError

        self.model = self.build_model()
        weights = {k[len("model."):]: v for k, v in saved.state_dict.items() if k.startswith("model.")}
        try:
            self.model.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            first = " ".join(str(exc).split())[:300]
            raise ModelLoadError(f"'{saved.path}' does not fit its music config: {first}") from None
        self.model.eval()
        self.train_pieces = unpack_pieces(saved.state_dict, self.config)


# --------------------------------------------------------------------------- helpers
def pack_pieces(pieces: Sequence[Any], config: MusicConfig) -> dict[str, torch.Tensor]:
    """The training pieces as two tensors (kept with the model so its baselines can be refitted)."""
    if config.model.frames:
        rolls = [frames_to_roll(p, config.data.low, config.data.high) for p in pieces]
        flat = torch.as_tensor(np.concatenate(rolls), dtype=torch.uint8)  # (sum T, P)
    else:
        flat = torch.as_tensor(np.concatenate([np.asarray(p) for p in pieces], axis=1),
                               dtype=torch.int16)  # (4, sum T)
    lengths = torch.as_tensor([np.asarray(p).shape[-1] if not config.model.frames else len(p)
                               for p in pieces], dtype=torch.int64)
    return {"data.pieces": flat, "data.lengths": lengths}


def unpack_pieces(state: dict[str, torch.Tensor], config: MusicConfig) -> list[Any]:
    flat, lengths = state["data.pieces"], state["data.lengths"].tolist()
    bounds = np.cumsum([0, *lengths])
    if config.model.frames:
        return [roll_to_frames(flat[a:b].numpy(), config.data.low) for a, b in zip(bounds[:-1], bounds[1:])]
    return [flat[:, a:b].numpy().astype(np.int64) for a, b in zip(bounds[:-1], bounds[1:])]


def soprano_tokens(soprano: Any) -> np.ndarray:
    """A soprano given as a file (top part), notes, or tokens -> tokens per sixteenth ``(T,)``."""
    if isinstance(soprano, (str, os.PathLike)):
        notes = read_parts(soprano)[0]
    elif isinstance(soprano, np.ndarray):
        return soprano.astype(np.int64)
    else:
        notes = list(soprano)
    tokens = notes_to_tokens(notes)
    if tokens.size == 0:
        raise ValueError("soprano: the melody has no notes")
    return tokens


def harmonization_accuracy(guesses: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> float:
    """Share of (sixteenth, lower voice) cells where the sounding pitch (or rest) is right."""
    right = total = 0
    for guess, truth in zip(guesses, truths):
        for v in (1, 2, 3):
            g, t = sounding(guess[v]), sounding(truth[v])
            right += int((g == t).sum())
            total += len(t)
    return right / max(total, 1)
