"""One life cycle for every task: configure, fit, predict, evaluate, save, load.

    task = Forecast(ForecastConfig(...), train=TrainConfig(max_epochs=30))
    task.fit(train_df, val=val_df)     # -> task; training runs through lstmkit.train.fit
    frame = task.predict(df)           # -> pandas.DataFrame (text for OUTPUT == "text")
    report = task.evaluate(test_df)    # -> {"lstm": {...}, "<baseline>": {...}}
    task.save("model/");  Forecast.load("model/")   # same predictions

Contract of a task class (a subclass of :class:`Task`):

* ``CONFIG``: its frozen config dataclass with sections ``model`` and
  ``data`` (see :mod:`lstmkit.tasks.configs`). Training knobs are *not* in
  it: they are the one :class:`~lstmkit.train.TrainConfig`, whose defaults a
  task may change with ``TRAIN_DEFAULTS``.
* capability flags instead of type checks: ``SUPPORTS_VAL`` (``fit`` takes
  ``val=``), ``OUTPUT`` (``"frame"``: ``predict`` returns a DataFrame;
  ``"text"``: strings), ``NAME`` (the CLI command and registry key),
  ``SAVED_AS`` (the task name in ``config.json``, default ``NAME``).
* it implements ``_fit(train, val)``, ``predict``, ``evaluate``,
  ``_state_dict()``, ``_extras()`` and ``_restore(saved)``; ``_fit`` trains
  each network with :meth:`Task._train_member`, which seeds member k with
  ``seed + k``, gives it ``run_dir/member-k`` when there are several (and
  writes no checkpoints without a ``run_dir``), prints
  progress and passes ``callbacks=`` and ``logger=`` on to Lightning.

``save`` writes ``config.json`` whose ``config`` holds the ``model``,
``data`` and ``train`` sections (a saved model says how it was trained) and
``run.yaml``, the same sections as a ``--config`` file for the command line.
Errors in what the user passes are ``ValueError`` (one line).

:data:`TASKS` is the registry (name -> ``"module:Class"``), read by
:func:`task_class`, the CLI and the test that walks every task.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from lstmkit.tasks import configs

TASKS: dict[str, str] = {
    "forecast": "lstmkit.tasks.forecast.api:Forecast",
    "detect": "lstmkit.tasks.anomaly.api:Detect",
    "classify": "lstmkit.tasks.classify.task:Classify",
    "tag": "lstmkit.tasks.tag.task:Tag",
    "generate": "lstmkit.tasks.generate.task:Generate",
    "translate": "lstmkit.tasks.translate.task:Translate",
    "music": "lstmkit.tasks.music.api:Music",
    "seqclass": "lstmkit.tasks.seqclass.api:SeqClass",
    "speech": "lstmkit.tasks.speech.api:Speech",
    "video": "lstmkit.tasks.video.api:Video",
}
RUN_FILE = "run.yaml"


def task_class(name: str) -> type[Task]:
    """The task class registered under ``name`` (see :data:`TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; registered tasks: {', '.join(sorted(TASKS))}")
    module, _, attr = TASKS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


class Task:
    """Base class of the task estimators (see the module docstring)."""

    NAME: ClassVar[str] = ""
    SAVED_AS: ClassVar[str | None] = None
    CONFIG: ClassVar[type]
    TRAIN_DEFAULTS: ClassVar[Mapping[str, Any]] = {}
    SUPPORTS_VAL: ClassVar[bool] = True
    OUTPUT: ClassVar[str] = "frame"

    def __init__(self, config: Any = None, train: Any = None) -> None:
        from lstmkit.train.config import TrainConfig

        if config is None:
            config = self.CONFIG()
        if not isinstance(config, self.CONFIG):
            raise TypeError(f"config: expected a {self.CONFIG.__name__}, got {type(config).__name__}")
        if train is None:
            train = self.default_train()
        if not isinstance(train, TrainConfig):
            raise TypeError(f"train: expected a lstmkit.train.TrainConfig, got {type(train).__name__}")
        self.config = config
        self.train_config = train
        self.fit_results: list[Any] = []
        self.fit_seconds = 0.0
        self.val_metrics: dict[str, float] = {}
        self._hooks: tuple[list[Any], Any] = ([], None)

    # ------------------------------------------------------------------ configuration
    @classmethod
    def default_train(cls, **changes: Any) -> Any:
        """The task's default :class:`~lstmkit.train.TrainConfig` (``TRAIN_DEFAULTS``), with ``changes``."""
        from lstmkit.train.config import TrainConfig

        return TrainConfig(**{**cls.TRAIN_DEFAULTS, **changes})

    @classmethod
    def saved_name(cls) -> str:
        return cls.SAVED_AS or cls.NAME

    @property
    def members(self) -> int:
        """Ensemble size (``config.model.members`` where the task has one, else 1)."""
        return int(getattr(self.config.model, "members", 1))

    def config_record(self) -> dict[str, Any]:
        """``{"model": ..., "data": ..., "train": ...}``: what ``config.json`` and ``run.yaml`` hold."""
        return {**configs.to_dict(self.config), "train": self.train_config.to_dict()}

    @classmethod
    def config_from_record(cls, record: Mapping[str, Any]) -> tuple[Any, Any]:
        """Inverse of :meth:`config_record`: ``(config, train)``; a missing train section -> defaults."""
        from lstmkit.train.config import TrainConfig

        sections = dict(record)
        train = sections.pop("train", None)
        config = configs.from_dict(cls.CONFIG, sections)
        train_config = cls.default_train() if train is None else configs.from_dict(TrainConfig, train)
        return config, train_config

    def command_line(self, words: str = "fit", **options: Any) -> str:
        """The ``lstmkit`` command that trains this configuration, e.g. ``task.command_line(data="x.csv")``."""
        from lstmkit.tasks.flags import command_line

        return command_line(f"{self.NAME} {words}", self.config, self.train_config,
                            self.TRAIN_DEFAULTS, **options)

    # ------------------------------------------------------------------ life cycle
    @property
    def is_fitted(self) -> bool:
        raise NotImplementedError

    def _check_fitted(self, what: str) -> None:
        if not self.is_fitted:
            raise ValueError(f"{type(self).__name__}.{what} called before fit (or load)")

    def fit(self, train: Any, val: Any = None, *, callbacks: Sequence[Any] | None = None,
            logger: Any = None) -> Task:
        """Train on ``train`` (validating on ``val`` each epoch) and return ``self``.

        ``callbacks``: Lightning callbacks added to every member's run;
        ``logger``: a Lightning logger (e.g. ``TensorBoardLogger("tb")``) used
        instead of the default CSV log in ``run_dir``.
        """
        if val is not None and not self.SUPPORTS_VAL:
            raise ValueError(f"{self.NAME}: fit(val=...) is not supported by this task")
        self._hooks = (list(callbacks or ()), logger)
        self.fit_results, self.val_metrics = [], {}
        started = time.perf_counter()
        try:
            self._fit(train, val)
        finally:
            self._hooks = ([], None)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit(self, train: Any, val: Any) -> None:
        raise NotImplementedError

    def predict(self, data: Any) -> Any:
        raise NotImplementedError

    def evaluate(self, data: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _train_member(self, module: Any, train_loader: Any, val_loader: Any = None, member: int = 0,
                      stage: str | None = None) -> Any:
        """Train one network with :func:`lstmkit.train.fit` (member ``member`` of :attr:`members`).

        ``stage``: a task that trains its members more than once in one fit (e.g. forecast's
        calibration fit before the full-data fit) names the earlier stage, whose checkpoints then
        go to ``run_dir/stage[/member-k]`` so that no two trainings share a run folder.
        """
        from lstmkit.tasks.progress import EpochLines, use_bar
        from lstmkit.train import fit

        cfg, total = self.train_config, self.members
        changes: dict[str, Any] = {"seed": cfg.seed + member}
        if cfg.run_dir is None:
            changes["checkpoint"] = False  # nothing would be kept; the best weights stay in memory
        else:
            run_dir = Path(cfg.run_dir) / stage if stage else Path(cfg.run_dir)
            changes["run_dir"] = os.fspath(run_dir / f"member-{member + 1}" if total > 1 else run_dir)
        if (total > 1 or stage) and cfg.resume not in (None, "last"):
            raise ValueError(
                f"resume={cfg.resume!r}: a fit of {total} member(s) in stages resumes with resume='last' "
                "and its run_dir (one checkpoint folder per member and stage)"
            )
        bar = use_bar(cfg.progress)
        changes["progress"] = bar
        label = f"member {member + 1}/{total}" if total > 1 else self.NAME
        callbacks, logger = self._hooks
        callbacks = list(callbacks)
        if bar:
            if total > 1:
                print(label, file=sys.stderr, flush=True)
        else:
            callbacks.append(EpochLines(label, cfg.max_epochs))
        result = fit(module, train_loader, val_loader, cfg.replace(**changes),
                     callbacks=callbacks, logger=logger)
        self.fit_results.append(result)
        return result

    def fit_summary(self) -> list[str]:
        """Lines saying, per member, which epoch was kept and its validation metrics."""
        from lstmkit.tasks.progress import kept_epoch

        lines = []
        total = len(self.fit_results)
        for k, result in enumerate(self.fit_results):
            epoch, record = kept_epoch(result)
            who = f"member {k + 1}/{total}: " if total > 1 else ""
            vals = "  ".join(f"{name} {value:.4g}" for name, value in record.items()
                             if name.startswith("val"))
            how = "best" if vals and result.config.restore_best else "last"
            lines.append(f"{who}kept epoch {epoch} of {result.epochs} ({how}){'  ' + vals if vals else ''}")
        if self.val_metrics:
            shown = "  ".join(f"{name} {value:.4g}" for name, value in self.val_metrics.items())
            lines.append(f"validation with the kept weights: {shown}")
        return lines

    # ------------------------------------------------------------------ persistence
    def _state_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def _extras(self) -> dict[str, Any]:
        return {}

    def _restore(self, saved: Any) -> None:
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model directory (``config.json``, ``model.safetensors``, ``run.yaml``)."""
        import yaml

        from lstmkit.io import atomic_write_text
        from lstmkit.train import save_model

        self._check_fitted("save")
        dest = save_model(path, task=self.saved_name(), config=self.config_record(),
                          state_dict=self._state_dict(), extras=self._extras())
        atomic_write_text(dest / RUN_FILE, yaml.safe_dump(self.config_record(), sort_keys=False))
        return dest

    @classmethod
    def load(cls, path: str | os.PathLike) -> Task:
        """Rebuild a saved task; any problem raises :class:`lstmkit.train.ModelLoadError`."""
        from lstmkit.train import ModelLoadError, load_model

        saved = load_model(path, task=cls.saved_name())
        try:
            config, train = cls.config_from_record(saved.config)
        except (KeyError, TypeError, ValueError) as err:
            raise ModelLoadError(f"'{path}' has an unusable {cls.NAME} config: {err}") from None
        task = cls(config, train)
        try:
            task._restore(saved)
        except ModelLoadError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            # a hand-edited config.json is user input: one line; chained, so --debug shows where
            raise ModelLoadError(f"'{path}' has unusable {cls.NAME} extras: {err}") from err
        return task
