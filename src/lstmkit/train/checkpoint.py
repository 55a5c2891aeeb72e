"""Checkpoint plumbing: atomic writes, RNG state, and a metrics history.

Exact resume needs four things beyond Lightning's own checkpoint (weights,
optimizer, schedulers, loop counters): the global random-number generators
(shuffling and dropout draw from them), which :class:`RNGState` stores; a
data order that is otherwise a function of (seed, epoch), which
:class:`SamplerEpoch` sets at each epoch start (samplers' ``set_epoch``,
samplers with a generator of their own); a file that is never seen
half-written, which :class:`AtomicCheckpointIO` guarantees (temp file in the
same directory, ``fsync``, ``os.replace``); and checkpoints taken at epoch
boundaries, which :func:`lstmkit.train.fit` arranges. Bit-identical means:
the same machine, versions and CPU thread count (recorded, see
:class:`RNGState`).

Checkpoints are read only with ``torch.load(weights_only=True)``
(:func:`load_checkpoint`): tensors, numbers, strings and containers, never
arbitrary objects, so a crafted ``.ckpt`` file cannot run code. A file that
is not a checkpoint raises :class:`CheckpointError` (one line).
"""

from __future__ import annotations

import os
import pickle
import random
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from lstmkit.io import temporary_name

#: what every Lightning training checkpoint holds
CHECKPOINT_KEYS = ("state_dict", "epoch", "global_step", "loops")


class CheckpointError(ValueError):
    """A ``.ckpt`` file is unreadable, not a training checkpoint, or does not fit (one line)."""


class ResumeWarning(UserWarning):
    """A resume that will run but may not be bit-identical to an uninterrupted run."""


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that readers see the old file or the new, never a part.

    Writes ``.<name>.<pid>-<random>.tmp`` in the same directory (mode
    ``0666 & ~umask``), flushes it to disk, then renames it over ``path``
    (atomic on POSIX and Windows). A temporary left by a killed process is
    removed by the next fit in that run directory.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu",
                    training: bool = True) -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True``; anything else is a :class:`CheckpointError`.

    The file must unpickle under torch's restricted loader (no code runs) to a
    dict, with the keys of :data:`CHECKPOINT_KEYS` when ``training`` (Lightning
    also passes weights alone through the checkpoint I/O, e.g. from DDP-spawn
    workers back to the main process: ``training=False``).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at '{path}'")
    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on pickle protocols are not for our users
            state = torch.load(handle, map_location=map_location, weights_only=True)
    # the bytes are untrusted input: whatever the unpickler or the zip reader raises, it is
    # this file's fault, and the user gets one line naming it
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, pickle.UnpicklingError):  # torch's text advises turning the safe loader off: never
            detail = "it is not a checkpoint, or it holds objects other than tensors and plain values"
        else:
            detail = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")[:200]
        raise CheckpointError(
            f"'{path}' is not a usable lstmkit checkpoint ({type(exc).__name__}: {detail})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"'{path}' is not a checkpoint: it holds a {type(state).__name__}, not a mapping")
    if not training:
        return state
    if any(key not in state for key in CHECKPOINT_KEYS):
        raise CheckpointError(
            f"'{path}' is not a training checkpoint: expected the keys {list(CHECKPOINT_KEYS)}"
        )
    if not isinstance(state["state_dict"], dict):
        raise CheckpointError(f"'{path}' is not a training checkpoint: its state_dict is not a mapping")
    return state


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O: atomic saves (:func:`atomic_torch_save`), safe loads (:func:`load_checkpoint`).

    ``preload(path, state)`` hands over a checkpoint already read (and
    checked) by :func:`lstmkit.train.fit`, so a resume reads the file once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._preloaded: dict[str, dict[str, Any]] = {}

    def preload(self, path: str | os.PathLike, state: dict[str, Any]) -> None:
        self._preloaded[os.fspath(path)] = state

    def load_checkpoint(
        self, path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        state = self._preloaded.pop(os.fspath(path), None)
        if state is not None:
            return state
        # resumes are preloaded (checked as training checkpoints by lstmkit.train.fit); what else
        # Lightning reads here (a DDP-spawn worker's weights) is only loaded safely
        return load_checkpoint(path, map_location="cpu" if map_location is None else map_location,
                               training=False)

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(
                f"AtomicCheckpointIO.save_checkpoint: storage_options must be None, "
                f"got {type(storage_options).__name__}"
            )
        atomic_torch_save(checkpoint, path)


def _numpy_state_to_plain(state: tuple) -> dict[str, Any]:
    """NumPy's legacy generator state as tensors and numbers (loadable with weights_only)."""
    kind, keys, pos, has_gauss, cached = state
    return {
        "kind": str(kind),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _numpy_state_from_plain(state: dict[str, Any]) -> tuple:
    keys = state["keys"].numpy().astype(np.uint32)
    return (state["kind"], keys, state["pos"], state["has_gauss"], state["cached_gaussian"])


class RNGState(L.Callback):
    """Saves and restores the Python, NumPy and torch (CPU and CUDA) generators.

    Its ``state_dict`` is taken when a checkpoint is written and loaded before
    training resumes, so the shuffles and dropout masks after a resume are the
    ones an uninterrupted run would have drawn.

    It also records ``torch.get_num_threads()``: CPU results can differ in the
    last bits between thread counts (a reduction split differently), so a
    resume with another thread count is warned about (:class:`ResumeWarning`);
    it still continues.
    """

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "python": random.getstate(),
            "numpy": _numpy_state_to_plain(np.random.get_state()),
            "torch": torch.get_rng_state(),
            "num_threads": torch.get_num_threads(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        random.setstate(state_dict["python"])
        np.random.set_state(_numpy_state_from_plain(state_dict["numpy"]))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
        threads, now = state_dict.get("num_threads"), torch.get_num_threads()
        if isinstance(threads, int) and threads != now:
            warnings.warn(
                f"resuming with {now} CPU thread(s), the checkpoint was written with {threads}: the "
                "weights may differ in the last bits from an uninterrupted run (set OMP_NUM_THREADS="
                f"{threads} or torch.set_num_threads({threads}) for a bit-identical resume)",
                ResumeWarning, stacklevel=2,
            )


class History(L.Callback):
    """Per-epoch record of every logged scalar metric (``epoch``, ``step``, metrics...).

    ``train_loss`` is the mean of the losses that ``training_step`` returned
    during the epoch (on this process).

    Kept in checkpoints so that a resumed run reports the whole history.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, float]] = []
        self._loss_sum = 0.0
        self._loss_count = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._loss_sum, self._loss_count = 0.0, 0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            self._loss_sum += float(loss.detach())
            self._loss_count += 1

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        record: dict[str, float] = {"epoch": float(trainer.current_epoch), "step": float(trainer.global_step)}
        for name, value in trainer.callback_metrics.items():
            if isinstance(value, torch.Tensor) and value.numel() == 1 or isinstance(value, (int, float)):
                record[name] = float(value)
        if self._loss_count:
            record["train_loss"] = self._loss_sum / self._loss_count  # mean over the epoch
        self.records.append(record)

    def state_dict(self) -> dict[str, Any]:
        return {"records": [dict(r) for r in self.records]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.records = [dict(r) for r in state_dict["records"]]


class BestWeights(L.Callback):
    """Keeps a copy of the weights of the best epoch by ``monitor`` (in memory, no files).

    Used by :func:`lstmkit.train.fit` for ``restore_best`` when checkpoints
    are off, so a run that writes nothing can still end on its best epoch.
    """

    def __init__(self, monitor: str, mode: str) -> None:
        self.monitor = monitor
        self.mode = mode
        self.score: float | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            logged = sorted(trainer.callback_metrics)
            raise ValueError(
                f"TrainConfig.monitor={self.monitor!r} was not logged by {type(pl_module).__name__}; "
                f"logged metrics: {logged}"
            )
        score = float(value)
        better = (
            self.score is None
            or (score < self.score if self.mode == "min" else score > self.score)
        )
        if better:
            self.score = score
            self.state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


class NonFiniteLossError(ValueError):
    """The training loss became NaN or infinite; the fit was stopped (one-line message)."""


class FiniteLoss(L.Callback):
    """Stop the fit with :class:`NonFiniteLossError` at the first non-finite training loss.

    The message names the optimizer step (``trainer.global_step`` once the
    batch has run, so the first batch of a fit is step 1), the epoch and the
    batch. Continuing would only spread NaN through every weight.
    """

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and loss.numel() == 1 and not bool(torch.isfinite(loss.detach())):
            raise NonFiniteLossError(
                f"training loss became {float(loss)} at step {max(trainer.global_step, 1)} "
                f"(epoch {trainer.current_epoch}, batch {batch_idx}); the fit was stopped: "
                "check the data for extreme values or lower the learning rate"
            )


def epoch_seed(base: int, epoch: int) -> int:
    """The 64-bit seed of ``epoch`` for a generator whose own seed is ``base``.

    Mixed by NumPy's ``SeedSequence((base, epoch))``: a pure function of the
    two numbers, so a resumed process derives the seed an uninterrupted one
    used, and neighbouring epochs get unrelated streams.
    """
    return int(np.random.SeedSequence((int(base), int(epoch))).generate_state(1, dtype=np.uint64)[0])


class SamplerEpoch(L.Callback):
    """Make each epoch's data order a function of (seed, epoch), whatever the training loaders hold.

    At every epoch start, before the first batch is drawn, for every training
    loader:

    * ``set_epoch(trainer.current_epoch)`` on its ``batch_sampler`` and its
      ``sampler`` when they have one. Lightning calls ``set_epoch`` only on a
      loader's ``sampler`` and ``batch_sampler.sampler``, never on a
      ``batch_sampler`` itself (such as :class:`~lstmkit.text.BucketBatchSampler`),
      which then counted its epochs alone and restarted from 0 after a resume;
    * a sampler that shuffles with a ``torch.Generator`` of its own (its
      ``generator`` attribute: ``sampler``, ``batch_sampler``,
      ``batch_sampler.sampler``; e.g. ``DataLoader(shuffle=True,
      generator=g)`` gives its ``RandomSampler`` ``g``) draws the epoch from a
      fresh generator seeded with :func:`epoch_seed` of ``g.initial_seed()``
      and the epoch. :class:`RNGState` does not save such a generator, so
      before a resumed fit started it afresh and replayed epoch 0's order;
      re-seeding ``g`` itself would not do either, because the ``DataLoader``
      also draws from ``g`` when it makes an epoch's iterator, which Lightning
      does before this hook in a process's first epoch and after it in the
      next ones.

    ``trainer.current_epoch`` is restored with the checkpoint, so a resumed
    epoch draws the order the uninterrupted run drew. Samplers draw their
    order at the first batch (``RandomSampler.__iter__`` and
    ``BucketBatchSampler.__iter__`` are generators), after this hook. When
    the fit ends (or fails) every sampler gets its own generator back,
    untouched.
    """

    def __init__(self) -> None:
        self._lent: dict[int, tuple[Any, torch.Generator]] = {}  # id(sampler) -> (sampler, its generator)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        for loader in _loaders(trainer.train_dataloader):
            for part in (getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
                set_epoch = getattr(part, "set_epoch", None)
                if callable(set_epoch):
                    set_epoch(epoch)
            for sampler in _seeded_samplers(loader):
                if id(sampler) not in self._lent:
                    self._lent[id(sampler)] = (sampler, sampler.generator)
                own = self._lent[id(sampler)][1]
                sampler.generator = torch.Generator(own.device).manual_seed(epoch_seed(own.initial_seed(), epoch))

    def _give_back(self) -> None:
        for sampler, generator in self._lent.values():
            sampler.generator = generator
        self._lent.clear()

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._give_back()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._give_back()


def _seeded_samplers(loader: Any) -> list[Any]:
    """The distinct samplers of a data loader that hold a ``torch.Generator`` as ``generator``."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    found: dict[int, Any] = {}
    for part in (getattr(loader, "sampler", None), batch_sampler, getattr(batch_sampler, "sampler", None)):
        if isinstance(getattr(part, "generator", None), torch.Generator):
            found.setdefault(id(part), part)
    return list(found.values())


def _loaders(obj: Any) -> list[Any]:
    """The data loaders in what ``trainer.train_dataloader`` returns (a loader, or a list/dict of them)."""
    if isinstance(obj, dict):
        return [x for value in obj.values() for x in _loaders(value)]
    if isinstance(obj, (list, tuple)):
        return [x for value in obj for x in _loaders(value)]
    return [] if obj is None else [obj]
