"""The interactive gate and attention view: one self-contained HTML file.

    v = lstmkit.inspect.view("model/", "texts.csv")   # a model directory (or a fitted task) and its data
    v.save("report.html")                              # open it in any browser, offline
    v                                                   # in a notebook: shown inline (_repr_html_)

The file holds everything it needs: the page's own small script and style
sheet (``assets/view.js``, ``assets/view.css``, written for lstmkit, no
third-party code) and the data as inlined JSON (:mod:`lstmkit.inspect.payload`).
Nothing is fetched from a network and no server is needed; ``serve`` (the
CLI's ``--serve``) is an optional local server bound to 127.0.0.1.

Per sequence the page shows the tokens (or time steps) coloured by a chosen
unit's gate (i, f, g, o), cell state c or output h; a second unit to
compare; the units x steps heat map (click a row to choose a unit); the
cell-state trajectories; pattern search over a selected span; per-unit gate
saturation; the attention matrix (translate, attention pooling); and for
the numeric tasks the series with forecast / score above the gate traces.
Which sequences and how the model is run come from the task's adapter
(:mod:`lstmkit.inspect.adapters`).
"""

from __future__ import annotations

import html
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from lstmkit.inspect.adapters import ADAPTERS, NAMED_DATA, Limits, adapter_for
from lstmkit.inspect.payload import build_payload, packed

__all__ = ["View", "view", "load_task"]


def _asset(name: str) -> str:
    return resources.files("lstmkit.inspect").joinpath("assets", name).read_text(encoding="utf-8")


def _task_name(saved_as: str, path: Any) -> str:
    """The registry name of the task saved as ``saved_as`` (detect saves as "anomaly")."""
    from lstmkit.tasks.base import TASKS, task_class

    if saved_as in TASKS:
        return saved_as
    for name in TASKS:
        if task_class(name).saved_name() == saved_as:
            return name
    raise ValueError(f"inspect: '{path}' holds a model of unknown task {saved_as!r}; "
                     f"tasks with a view: {', '.join(sorted(ADAPTERS))}")


def load_task(path: str | os.PathLike) -> Any:
    """The fitted task saved in the model directory ``path`` (any task; one-line errors)."""
    from lstmkit.tasks.base import task_class
    from lstmkit.train import load_model

    saved = load_model(path)
    name = _task_name(saved.task, path)
    if name not in ADAPTERS:
        raise ValueError(f"inspect: no view for task {name!r} ('{path}'); tasks with a view: "
                         f"{', '.join(sorted(ADAPTERS))}")
    return task_class(name).load(path)


class View:
    """A rendered view: :meth:`html` (the page), :meth:`save`, and ``_repr_html_`` for notebooks.

    ``payload`` is the embedded data (see :func:`lstmkit.inspect.payload.build_payload`).
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    @property
    def sequences(self) -> int:
        return len(self.payload["sequences"])

    def html(self) -> str:
        """The whole page as one string (script, style and data inlined)."""
        data = json.dumps(packed(self.payload), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        data = data.replace("<", "\\u003c")  # no "</script" or "<!--" inside the script element
        title = html.escape(self.payload["meta"]["title"])
        return (
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\n"
            f"<style>\n{_asset('view.css')}\n</style></head>\n<body>\n"
            f"<div id=\"lk-root\"><h1>{title}</h1><noscript>This view needs JavaScript.</noscript></div>\n"
            f"<script type=\"application/json\" id=\"lk-data\">{data}</script>\n"
            f"<script>\n{_asset('view.js')}\n</script>\n</body></html>\n"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (atomically) and return the path."""
        from lstmkit.io import atomic_write_text

        return atomic_write_text(path, self.html())

    def _repr_html_(self) -> str:
        """The page in an isolated iframe, so that several views in one notebook do not clash."""
        return (f"<iframe srcdoc=\"{html.escape(self.html(), quote=True)}\" "
                "style=\"width:100%;height:900px;border:1px solid #ddd\"></iframe>")

    def __repr__(self) -> str:
        meta = self.payload["meta"]
        return f"View(task={meta['task']!r}, model={meta['model']!r}, sequences={self.sequences})"


def _check_data(task: str, data: Any) -> None:
    """A path that does not exist is a one-line error (music also takes the corpus names)."""
    if not isinstance(data, (str, os.PathLike)) or os.path.exists(data):
        return
    if os.fspath(data).partition(":")[0] in NAMED_DATA.get(task, ()):
        return
    raise ValueError(f"inspect: data file '{os.fspath(data)}' does not exist")


def view(model: Any, data: Any, *, max_sequences: int = 8, max_steps: int = 400, title: str | None = None,
         low: float = 0.1, high: float = 0.9) -> View:
    """The interactive view of ``model`` (a model directory or a fitted task) on ``data``.

    ``data`` is what the task's ``predict`` takes (a file path for every task:
    texts, CoNLL, source sentences, series tables, music files). At most
    ``max_sequences`` sequences of at most ``max_steps`` steps are shown.
    ``low`` / ``high``: the saturation limits.
    """
    limits = Limits(max_sequences, max_steps)
    if isinstance(model, (str, os.PathLike)):
        task, name = load_task(model), os.fspath(model)
    else:
        task, name = model, type(model).__name__
        task._check_fitted("inspect")
    _check_data(task.NAME, data)
    adapter = adapter_for(task.NAME)
    samples = adapter(task, data, limits)
    return View(build_payload(samples, task=task.NAME, model=name, title=title, low=low, high=high))
