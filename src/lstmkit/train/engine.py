"""``fit``: train any :class:`TaskModule` with Lightning, knowing nothing about the task.

The engine owns devices, precision, seeding, checkpoints, resume, early
stopping, progress and the metrics history; the task owns the model, the
loss and the metrics it logs.

Multi-process data parallel (``devices > 1``) runs Lightning's
``DDPStrategy`` (gloo on CPU, NCCL on GPU) in processes *spawned* from the
caller: when :func:`fit` returns, the caller's module holds the trained
weights of rank 0 and the caller goes on alone, so predicting after a
multi-process run is ordinary single-process code. Modules and datasets must
therefore be picklable, and a script that trains on several processes must
guard its entry point with ``if __name__ == "__main__":``.

Safety: a ``run_dir`` is locked for the duration of a fit (a second fit
into it fails at once with :class:`~lstmkit.io.BusyError`; a killed fit's
lock dies with its process) and temporaries that a killed fit left there are
removed. A checkpoint to resume from is read with ``weights_only=True`` and
checked against the module before Lightning sees it; the best checkpoint is
read only from this run's own checkpoint folder. A loss that becomes NaN or
infinite stops the fit with :class:`NonFiniteLossError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.strategies import DDPStrategy

from lstmkit.io import exclusive_lock, remove_path
from lstmkit.train.checkpoint import (
    AtomicCheckpointIO,
    BestWeights,
    CheckpointError,
    FiniteLoss,
    History,
    NonFiniteLossError,  # noqa: F401  (re-exported: lstmkit.train.engine.NonFiniteLossError)
    RNGState,
    SamplerEpoch,
    load_checkpoint,
)
from lstmkit.train.config import TrainConfig
from lstmkit.train.module import TaskModule

CHECKPOINT_SUBDIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` reports.

    ``metrics``: the last value of every logged scalar; ``history``: one dict
    per epoch (``epoch``, ``step``, ``train_loss`` mean, validation metrics);
    ``best_score``: the best ``monitor`` value seen (``None`` without
    validation); ``best_checkpoint`` / ``last_checkpoint`` / ``run_dir``:
    paths, ``None`` when the run used a temporary directory (removed);
    ``epochs``: epochs completed; ``global_step``: optimizer steps taken;
    ``stopped_early``: early stopping ended the run; ``seconds``: wall time.
    """

    metrics: dict[str, float]
    history: tuple[dict[str, float], ...]
    best_score: float | None
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    run_dir: Path | None
    epochs: int
    global_step: int
    stopped_early: bool
    seconds: float
    config: TrainConfig = field(repr=False, default_factory=TrainConfig)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (and data-loader workers) with ``seed``.

    Call it before building a model whose initialisation must be reproducible;
    :func:`fit` calls it again with ``TrainConfig.seed`` before training.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    L.seed_everything(seed, workers=True, verbose=False)


def _resolve_accelerator(config: TrainConfig) -> str:
    if config.accelerator == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    if config.accelerator in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"TrainConfig.accelerator={config.accelerator!r}, but no CUDA device is available"
            )
        return "gpu"
    return "cpu"


def _resolve_precision(config: TrainConfig, accelerator: str) -> str:
    if config.precision == "auto":
        if accelerator == "gpu" and torch.cuda.is_bf16_supported():
            return "bf16-mixed"
        return "32-true"
    if config.precision == "16-mixed" and accelerator == "cpu":
        raise ValueError(
            "TrainConfig.precision='16-mixed' needs a GPU; on CPU use 'bf16-mixed' or '32'"
        )
    return {"32": "32-true", "64": "64-true"}.get(config.precision, config.precision)


def _resolve_strategy(config: TrainConfig, accelerator: str) -> Any:
    if config.devices == 1:
        return "auto"
    if accelerator == "cpu":
        return DDPStrategy(process_group_backend="gloo", start_method="spawn")
    return DDPStrategy(start_method="spawn")


def _inside(path: str | os.PathLike, folder: Path) -> bool:
    resolved, root = Path(path).resolve(), folder.resolve()
    return resolved.parent == root or root in resolved.parents


def _check_resume(path: str, module: TaskModule, ckpt_dir: Path, io: AtomicCheckpointIO | None) -> None:
    """Read the checkpoint to resume from (safely) and check that it fits before Lightning restores it.

    Refused with :class:`CheckpointError` (one line): a file that is not a
    training checkpoint, weights that do not fit ``module`` (missing,
    unexpected or reshaped tensors), and checkpoint-callback state that claims
    this run's checkpoint folder but points at files outside it (Lightning
    would trust those paths).
    """
    state = load_checkpoint(path)
    expected = module.state_dict()
    weights = state["state_dict"]
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint '{path}' does not fit this {type(module).__name__}: "
            f"missing tensors {missing[:5]}, unexpected tensors {unexpected[:5]}"
        )
    for name, tensor in expected.items():
        other = weights[name]
        if not isinstance(other, torch.Tensor) or tuple(other.shape) != tuple(tensor.shape):
            shape = list(other.shape) if isinstance(other, torch.Tensor) else type(other).__name__
            raise CheckpointError(
                f"checkpoint '{path}' does not fit this {type(module).__name__}: tensor '{name}' is "
                f"{shape}, the model has {list(tensor.shape)}"
            )
    callbacks = state.get("callbacks", {})
    for key, value in (callbacks.items() if isinstance(callbacks, dict) else ()):
        if not str(key).startswith("ModelCheckpoint") or not isinstance(value, dict):
            continue
        dirpath = value.get("dirpath")
        if not isinstance(dirpath, str) or Path(dirpath).resolve() != ckpt_dir.resolve():
            continue  # Lightning restores the paths only for its own folder
        named = [value.get(k) for k in ("best_model_path", "last_model_path", "kth_best_model_path")]
        named += list(value.get("best_k_models", {}) or {})
        for item in named:
            if item and (not isinstance(item, str) or not _inside(item, ckpt_dir)):
                raise CheckpointError(
                    f"checkpoint '{path}' names a checkpoint file outside this run's folder "
                    f"'{ckpt_dir}' ({item!r}); refusing it"
                )
    if io is not None:
        io.preload(path, state)


def _resolve_resume(config: TrainConfig, ckpt_dir: Path) -> str | None:
    if config.resume is None:
        if config.checkpoint and ckpt_dir.is_dir() and any(ckpt_dir.glob("*.ckpt")):
            raise ValueError(
                f"run_dir '{ckpt_dir.parent}' already holds checkpoints of an earlier run: "
                "resume it with resume='last' (--resume last), or use another run_dir"
            )
        return None
    if config.resume == "last":
        last = ckpt_dir / LAST_CHECKPOINT
        return str(last) if last.is_file() else None
    path = Path(config.resume)
    if not path.is_file():
        raise FileNotFoundError(f"TrainConfig.resume: no checkpoint file at '{path}'")
    return str(path)


@contextlib.contextmanager
def _run_directory(config: TrainConfig) -> Iterator[tuple[Path, bool]]:
    """The run directory, and whether it is temporary (removed on exit)."""
    if config.run_dir is not None:
        path = Path(config.run_dir)
        if path.exists() and not path.is_dir():
            raise ValueError(f"TrainConfig.run_dir '{path}' exists and is not a directory")
        path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(path / LOCK_FILE, f"run directory '{path}'"):
            _clean_run_temporaries(path)
            yield path, False
        return
    tmp = Path(tempfile.mkdtemp(prefix="lstmkit-run-"))
    try:
        yield tmp, True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _clean_run_temporaries(run_dir: Path) -> None:
    """Remove ``.*.tmp`` files a killed fit left (the run lock is held: none is being written)."""
    for folder in (run_dir, run_dir / CHECKPOINT_SUBDIR):
        if folder.is_dir():
            for entry in folder.glob(".*.tmp"):
                remove_path(entry)


@contextlib.contextmanager
def _deterministic(enabled: bool) -> Iterator[None]:
    """Run with torch's deterministic algorithms on, restoring the previous flag after."""
    before = torch.are_deterministic_algorithms_enabled()
    try:
        yield
    finally:
        if enabled:
            torch.use_deterministic_algorithms(before)


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's info chatter (device banner, tips); warnings still show."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _IGNORED_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


_IGNORED_WARNINGS = (
    ".*does not have many workers.*",  # tiny in-memory data needs no worker processes
    ".*smaller than the logging interval.*",
    ".*exists and is not empty.*",  # resuming into the same run directory is the point
    ".*LeafSpec.*",
    ".*have no .val_dataloader.*",  # validation is optional
)


class _QuietWorkers(L.Callback):
    """In spawned worker processes, install the same filters as :func:`_quiet_lightning`.

    Workers start a fresh interpreter (filters and log levels are not
    inherited); they exit after training, so nothing needs restoring there.
    """

    def __init__(self) -> None:
        self.parent_pid = os.getpid()

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if os.getpid() == self.parent_pid:
            return
        for name in ("lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.WARNING)
        for pattern in _IGNORED_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)


def _scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1 or isinstance(value, (int, float)):
            out[name] = float(value)
    return out


def _check_inputs(module: Any, config: Any, has_val: bool) -> None:
    if not isinstance(module, TaskModule):
        raise TypeError(f"module: expected a lstmkit.train.TaskModule, got {type(module).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    needs_monitor = config.early_stopping_patience is not None or config.schedule == "plateau"
    if needs_monitor and config.monitor.startswith("val") and not has_val:
        raise ValueError(
            f"TrainConfig.monitor={config.monitor!r} (used by early stopping / the plateau "
            "schedule) needs val_dataloaders, got None"
        )


def fit(
    module: TaskModule,
    train_dataloaders: Any,
    val_dataloaders: Any = None,
    config: TrainConfig | None = None,
    *,
    callbacks: list[L.Callback] | None = None,
    logger: Any = None,
) -> FitResult:
    """Train ``module`` in place on ``train_dataloaders`` and return a :class:`FitResult`.

    Validation runs at the end of every epoch when ``val_dataloaders`` is
    given. Checkpoints are written atomically at every epoch end to
    ``run_dir/checkpoints`` (``last.ckpt`` plus the best by ``monitor``).
    With ``resume="last"`` an interrupted run continues from ``last.ckpt``
    and reaches the same weights as an uninterrupted run with the same seed
    (epoch-boundary checkpoints, RNG state included, data order derived from
    (seed, epoch); CPU, the same thread count). ``config=None``
    means ``TrainConfig()``. ``callbacks`` (Lightning callbacks) are added to
    the engine's own; ``logger`` (a Lightning logger, e.g. ``TensorBoardLogger``)
    replaces the default (a ``CSVLogger`` in ``run_dir``, none for a temporary run).
    """
    config = TrainConfig() if config is None else config
    has_val = val_dataloaders is not None
    _check_inputs(module, config, has_val)
    accelerator = _resolve_accelerator(config)
    precision = _resolve_precision(config, accelerator)
    strategy = _resolve_strategy(config, accelerator)
    seed_everything(config.seed)
    module.train_config = config
    started = time.perf_counter()

    with _run_directory(config) as (run_dir, temporary), _deterministic(config.deterministic):
        parts = _Callbacks.build(config, run_dir / CHECKPOINT_SUBDIR, has_val)
        manual = not module.automatic_optimization  # e.g. truncated BPTT clips and steps itself
        checkpoint_io = AtomicCheckpointIO()
        ckpt_path = _resolve_resume(config, run_dir / CHECKPOINT_SUBDIR)
        if ckpt_path is not None:
            # spawned workers would get a pickled copy of a preloaded state: let them read the file
            _check_resume(ckpt_path, module, run_dir / CHECKPOINT_SUBDIR,
                          checkpoint_io if config.devices == 1 else None)
        with _quiet_lightning():
            trainer = L.Trainer(
                accelerator=accelerator,
                devices=config.devices,
                strategy=strategy,
                precision=precision,
                max_epochs=config.max_epochs,
                max_steps=config.max_steps,
                gradient_clip_val=None if manual else config.gradient_clip_val,
                gradient_clip_algorithm="norm",
                accumulate_grad_batches=1 if manual else config.accumulate_grad_batches,
                deterministic=config.deterministic,
                callbacks=[*parts.all, *(callbacks or ())],
                logger=logger if logger is not None else (
                    CSVLogger(run_dir, name="logs") if not temporary else False),
                enable_checkpointing=parts.checkpoint is not None,
                enable_progress_bar=config.progress,
                enable_model_summary=False,
                log_every_n_steps=config.log_every_n_steps,
                num_sanity_val_steps=0,
                default_root_dir=run_dir,
                plugins=[checkpoint_io],
            )
            trainer.fit(module, train_dataloaders, val_dataloaders, ckpt_path=ckpt_path)
        return _collect(module, trainer, parts, config, has_val, run_dir, temporary, started)


@dataclass
class _Callbacks:
    """The callbacks of one fit, by role."""

    all: list[L.Callback]
    history: History
    checkpoint: ModelCheckpoint | None
    early: EarlyStopping | None
    best: BestWeights | None = None

    @classmethod
    def build(cls, config: TrainConfig, ckpt_dir: Path, has_val: bool) -> _Callbacks:
        history = History()
        callbacks: list[L.Callback] = [RNGState(), history, _QuietWorkers(), FiniteLoss(), SamplerEpoch()]
        # multi-process runs report their counters through the last checkpoint, so always write one
        wanted = config.checkpoint or config.devices > 1
        best = None
        if not wanted and config.restore_best and has_val:  # keep the best weights in memory instead
            best = BestWeights(config.monitor, config.monitor_mode)
            callbacks.append(best)
        checkpoint = None
        if wanted:
            checkpoint = ModelCheckpoint(
                dirpath=ckpt_dir,
                filename="epoch{epoch:03d}",
                auto_insert_metric_name=False,
                monitor=config.monitor if has_val else None,
                mode=config.monitor_mode,
                save_top_k=1,
                save_last=True,
                every_n_epochs=1,
                save_on_train_epoch_end=True,
                enable_version_counter=False,
            )
            callbacks.append(checkpoint)
        early = None
        if config.early_stopping_patience is not None:
            early = EarlyStopping(
                monitor=config.monitor,
                mode=config.monitor_mode,
                patience=config.early_stopping_patience,
                min_delta=config.early_stopping_min_delta,
                check_on_train_epoch_end=True,
            )
            callbacks.append(early)
        return cls(callbacks, history, checkpoint, early, best)


def _collect(
    module: TaskModule,
    trainer: L.Trainer,
    parts: _Callbacks,
    config: TrainConfig,
    has_val: bool,
    run_dir: Path,
    temporary: bool,
    started: float,
) -> FitResult:
    """Gather the FitResult (and restore the best weights) after ``trainer.fit``."""
    records = list(parts.history.records)
    epochs, global_step = trainer.current_epoch, trainer.global_step
    stopped_early = bool(parts.early is not None and parts.early.stopped_epoch > 0)
    best_path = None
    last_path = None
    if parts.checkpoint is not None:
        # trusted only inside this run's own checkpoint folder (the path can come from a resumed file)
        if parts.checkpoint.best_model_path and _inside(parts.checkpoint.best_model_path, run_dir / CHECKPOINT_SUBDIR):
            best_path = Path(parts.checkpoint.best_model_path)
        candidate = Path(parts.checkpoint.dirpath) / LAST_CHECKPOINT
        last_path = candidate if candidate.is_file() else None
    if config.devices > 1 and last_path is not None:
        # the spawned workers ran the loops: read their counters and history from the last checkpoint
        state = load_checkpoint(last_path)
        epochs, global_step = int(state["epoch"]) + 1, int(state["global_step"])
        for key, value in state.get("callbacks", {}).items():
            if key.startswith("History"):
                records = list(value["records"])
            elif key.startswith("EarlyStopping"):
                stopped_early = int(value.get("stopped_epoch", 0)) > 0
    best_score = None
    scores = [r[config.monitor] for r in records if config.monitor in r]
    if has_val and scores:
        best_score = min(scores) if config.monitor_mode == "min" else max(scores)
    if config.restore_best and has_val:
        if parts.best is not None and parts.best.state is not None:
            module.load_state_dict(parts.best.state)
        elif best_path is not None and best_path.is_file():
            state = load_checkpoint(best_path)
            module.load_state_dict(state["state_dict"])
    return FitResult(
        metrics=_scalar_metrics(dict(trainer.callback_metrics)),
        history=tuple(records),
        best_score=best_score,
        best_checkpoint=None if temporary else best_path,
        last_checkpoint=None if temporary else last_path,
        run_dir=None if temporary else run_dir,
        epochs=epochs,
        global_step=global_step,
        stopped_early=stopped_early,
        seconds=time.perf_counter() - started,
        config=config,
    )
