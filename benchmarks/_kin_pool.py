"""Run the cells of benchmarks/kin.py in worker processes, one torch thread each, with a deadline.

- ``workers == 1`` runs the cells in this process, in the same order.
- ``workers > 1``: a ``ProcessPoolExecutor`` over the ``spawn`` context (no
  forked torch state); each worker sets ``torch.set_num_threads(1)`` and
  inherits ``OMP_NUM_THREADS = MKL_NUM_THREADS = 1``. At most ``workers``
  cells are in flight, so a cell starts the moment it is submitted and the
  deadline is exact: no cell is submitted once ``deadline_s`` seconds of wall
  time have passed since the call began; those cells come back as ``not_run``.
- Cells start largest first (``cost_estimate``), which shortens the makespan;
  the rows are returned in the caller's order whatever order they finished in.
- A cell that raises comes back as an error entry (the cell, the exception's
  type and message) and the run goes on; a worker that dies (the pool breaks)
  turns its in-flight cells into errors and a fresh pool takes the rest.
"""

from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context

import torch

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _init_worker() -> None:
    torch.set_num_threads(1)


@contextmanager
def _one_thread_env():
    """Children inherit one-thread BLAS/OpenMP settings (set before they import torch)."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _error(cell: dict, err: BaseException) -> dict:
    return {**cell, "error": f"{type(err).__name__}: {err}",
            "traceback": "".join(traceback.format_exception(err))[-2000:]}


def run_cells(cells, settings, fn, workers: int = 1, deadline_s: float | None = None,
              estimate=lambda cell: 0.0, label=str, summary=lambda row: "", log=print):
    """Run ``fn(cell, settings)`` for every cell; returns (rows, errors, not_run) in ``cells`` order.

    ``fn`` must be a module-level function (it is pickled by name for the workers).
    """
    order = sorted(range(len(cells)), key=lambda i: (-estimate(cells[i]), i))
    start = time.perf_counter()
    results: dict[int, dict] = {}
    errors: dict[int, dict] = {}

    def elapsed() -> float:
        return time.perf_counter() - start

    def may_start() -> bool:
        return deadline_s is None or elapsed() < deadline_s

    def report(i: int, row: dict | None, err: BaseException | None) -> None:
        if err is None:
            results[i] = row
            what = summary(row)
        else:
            errors[i] = _error(cells[i], err)
            what = f"ERROR {errors[i]['error']}"
        log(f"[{len(results) + len(errors)}/{len(cells)} {elapsed():.0f} s] {label(cells[i])}: {what}")

    queue = list(order)
    if workers <= 1:
        while queue and may_start():
            i = queue.pop(0)
            try:
                row = fn(cells[i], settings)
            except Exception as err:  # one failing cell is reported; the run goes on
                report(i, None, err)
            else:
                report(i, row, None)
    else:
        with _one_thread_env():
            while queue and may_start():
                _drain(queue, cells, settings, fn, workers, may_start, report)
    not_run = [cells[i] for i in sorted(queue)]
    return ([results[i] for i in sorted(results)], [errors[i] for i in sorted(errors)], not_run)


def _drain(queue, cells, settings, fn, workers, may_start, report) -> None:
    """Feed ``queue`` to one pool until it is empty, the deadline passes or the pool breaks."""
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker)
    running: dict = {}
    try:
        while running or (queue and may_start()):
            while queue and len(running) < workers and may_start():
                i = queue.pop(0)
                running[pool.submit(fn, cells[i], settings)] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                err = future.exception()
                report(running.pop(future), None if err else future.result(), err)
                broken = broken or isinstance(err, BrokenProcessPool)
            if broken:  # the pool is gone: its other cells end with it (blocks until they are marked)
                for future in list(running):
                    err = future.exception()
                    report(running.pop(future), None if err else future.result(), err)
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
