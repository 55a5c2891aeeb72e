"""The command line's CPU thread count: ``--threads N``, ``LSTMKIT_THREADS``, and fewer threads on a busy machine."""

from __future__ import annotations

import os

import pytest
import torch

from lstmkit.commands import _threads
from lstmkit.commands._threads import choose


def test_a_busy_machine_gets_only_its_idle_cores():
    # 2 cores, another process keeps one busy: 1 thread, with a note saying why and how to override
    threads, note = choose(None, {}, cores=2, load=1.1, current=2)
    assert threads == 1 and "busy" in note and "--threads" in note
    assert choose(None, {}, cores=16, load=6.4, current=16)[0] == 10
    assert choose(None, {}, cores=4, load=9.0, current=4)[0] == 1          # never below one
    # a quiet machine, or one thread already: torch's count is left alone
    assert choose(None, {}, cores=2, load=0.4, current=2) == (None, None)
    assert choose(None, {}, cores=2, load=1.9, current=1) == (None, None)


def test_the_user_decides_over_the_load():
    assert choose("3", {}, cores=2, load=1.9, current=2) == (3, None)
    assert choose(None, {"LSTMKIT_THREADS": "2"}, cores=2, load=1.9, current=2) == (2, None)
    assert choose("1", {"LSTMKIT_THREADS": "2"}, cores=2, load=0.0, current=2) == (1, None)
    # the OpenMP / MKL variables, when set, stay in charge
    assert choose(None, {"OMP_NUM_THREADS": "2"}, cores=2, load=1.9, current=2) == (None, None)
    for bad in ("0", "-1", "two", "1.5", ""):
        with pytest.raises(ValueError, match="whole number of threads >= 1"):
            choose(bad, {}, cores=2, load=0.0, current=2)


def test_apply_sets_torch_threads_from_the_load(monkeypatch):
    before = torch.get_num_threads()
    try:
        for name in ("LSTMKIT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
        monkeypatch.setattr(os, "getloadavg", lambda: (2.8, 1.0, 1.0))
        torch.set_num_threads(4)
        note = _threads.apply(None)
        assert torch.get_num_threads() == 1 and "load 2.8 on 4 cores" in note
        assert _threads.apply("3") is None and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_bad_thread_counts_are_one_line_errors(capsys):
    from lstmkit.cli import main

    assert main(["--threads", "0", "forecast", "predict", "--model", "nowhere", "--data", "x.csv",
                 "--out", "y.csv"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "lstmkit: error: --threads must be a whole number of threads >= 1, received '0'"]
