"""How a config field is spelled on the command line, and the command that rebuilds a config.

This sits below :mod:`lstmkit.commands` (which generates the parsers from it)
so that a task can print the ``lstmkit`` command reproducing its
configuration (:meth:`lstmkit.tasks.base.Task.command_line`) without
importing the command layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lstmkit.tasks import configs

TRAIN_FLAGS = {"max_epochs": "epochs", "gradient_clip_val": "clip", "early_stopping_patience": "patience"}
TRAIN_HELP = {
    "max_epochs": "passes over the training data",
    "max_steps": "optimizer steps at most (-1: no limit)",
    "lr": "peak learning rate (AdamW)",
    "weight_decay": "AdamW decoupled weight decay",
    "schedule": "learning-rate schedule",
    "warmup_steps": "steps of linear learning-rate warm-up",
    "min_lr_ratio": "floor of the cosine/linear schedule, as a fraction of the peak",
    "plateau_factor": "plateau schedule: multiply the rate by this",
    "plateau_patience": "plateau schedule: epochs without improvement before lowering the rate",
    "gradient_clip_val": "clip the gradient 2-norm to this value (none: off)",
    "accumulate_grad_batches": "batches whose gradients are summed per optimizer step",
    "seed": "random seed (ensemble member k uses seed + k)",
    "deterministic": "use deterministic algorithms (slower on GPU)",
    "accelerator": "device type",
    "devices": "processes/devices; more than 1 trains data-parallel (DDP)",
    "strategy": "distribution strategy",
    "precision": "numeric precision",
    "monitor": "logged metric that picks the kept epoch, early stopping and the plateau schedule",
    "monitor_mode": "whether the monitored metric is better when lower (min) or higher (max)",
    "early_stopping_patience": "stop after this many epochs without improvement (none: never)",
    "early_stopping_min_delta": "smallest change that counts as an improvement",
    "restore_best": "end on the weights of the best validation epoch",
    "run_dir": "folder for checkpoints and logs (none: a temporary one, removed)",
    "checkpoint": "write a checkpoint at every epoch end (in --run-dir)",
    "resume": "'last' (continue the run in --run-dir) or a .ckpt file",
    "progress": "progress bar on a terminal; without one, or with --no-progress, one line per epoch",
    "log_every_n_steps": "how often step metrics are logged",
}
TRAIN_CHOICES = {"schedule": "SCHEDULES", "accelerator": "ACCELERATORS", "strategy": "STRATEGIES",
                 "precision": "PRECISIONS", "monitor_mode": "MODES"}


def train_meta(f: dataclasses.Field) -> tuple[str, str, tuple[Any, ...] | None]:
    from lstmkit.train import config as tc

    choices = getattr(tc, TRAIN_CHOICES[f.name]) if f.name in TRAIN_CHOICES else None
    return TRAIN_FLAGS.get(f.name, f.name).replace("_", "-"), TRAIN_HELP.get(f.name, ""), choices


def show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return " ".join(map(str, value)) if value else "none"
    return str(value)


def command_line(words: str, config: Any, train: Any, train_defaults: Mapping[str, Any] | None = None,
                 **options: Any) -> str:
    """The ``lstmkit`` command that rebuilds ``config`` and ``train``: only the non-default fields.

    ``words``: e.g. ``"forecast fit"``; ``options``: command options (``data="x.csv"``).

    >>> from lstmkit.tasks.forecast.config import ForecastConfig, ModelConfig
    >>> from lstmkit.train.config import TrainConfig
    >>> command_line("forecast fit", ForecastConfig(ModelConfig(horizon=6, lookback=18)),
    ...              TrainConfig(max_epochs=3), out="m/")
    'lstmkit forecast fit --lookback 18 --horizon 6 --epochs 3 --out m/'
    """
    import shlex

    def flag_value(flag: str, value: Any, default: Any) -> list[str]:
        if value == default:
            return []
        if isinstance(value, bool):
            return [f"--{flag}" if value else f"--no-{flag}"]
        if isinstance(value, tuple):
            return [f"--{flag}", *(map(str, value))]
        return [f"--{flag}", show(value)]

    parts = ["lstmkit", *words.split()]
    defaults = type(config)()
    for f in dataclasses.fields(config):
        section, base = getattr(config, f.name), getattr(defaults, f.name)
        for g in dataclasses.fields(section):
            parts += flag_value(configs.field_flag(g), getattr(section, g.name), getattr(base, g.name))
    base_train = type(train)(**dict(train_defaults or {}))
    for f in dataclasses.fields(train):
        parts += flag_value(train_meta(f)[0], getattr(train, f.name), getattr(base_train, f.name))
    for name, value in options.items():
        if value is not None:
            parts += flag_value(name.replace("_", "-"), value, None)
    return " ".join(shlex.quote(p) for p in parts)
