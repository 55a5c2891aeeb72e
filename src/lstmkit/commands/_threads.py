"""How many CPU threads a command-line run uses: ``--threads N``, or a choice that avoids a busy machine.

Every OpenMP parallel region (torch's GEMMs and element-wise ops, the fused
kernels' in-step team) ends at a barrier that waits for all its threads. When
more threads are runnable than there are free cores, a barrier waits for a thread
the scheduler has put aside, so each region costs a scheduler time slice instead
of microseconds: on a 2-core machine with one core taken by another process, a
forecaster's training step at 2 threads took 80x longer than at 1 thread (a plain
``nn.Linear`` forward and backward 650x).  So, unless told otherwise, the command
line uses at most as many threads as there are idle cores:

    threads = max(1, min(current, round(cores - load)))

with ``current`` torch's thread count, ``cores`` the CPUs this process may run on and
``load`` the 1-minute load average (the runnable processes: others' work, since this
one has only just started).  ``lstmkit --threads N COMMAND ...`` or
``LSTMKIT_THREADS=N`` sets N; ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, when set,
are left in charge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

FLAG = "--threads"
ENV = "LSTMKIT_THREADS"
RESPECTED = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_count(value: str, where: str) -> int:
    """A thread count given by the user: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{where} must be a whole number of threads >= 1, received {value!r}")
    return n


def choose(requested: str | None, env: Mapping[str, str], cores: int, load: float,
           current: int) -> tuple[int | None, str | None]:
    """(threads to set or None to leave torch's, a note for the user or None); see the module docstring.

    >>> choose(None, {}, cores=2, load=1.2, current=2)[0]
    1
    >>> choose(None, {}, cores=2, load=0.3, current=2)
    (None, None)
    >>> choose("3", {}, cores=2, load=1.9, current=2)
    (3, None)
    """
    if requested is not None:
        return parse_count(requested, FLAG), None
    if env.get(ENV, "") != "":
        return parse_count(env[ENV], ENV), None
    if any(env.get(name, "") != "" for name in RESPECTED) or current <= 1:
        return None, None
    idle = max(1, int(round(cores - load)))
    if idle >= current:
        return None, None
    return idle, (f"lstmkit: note: using {idle} thread(s), not {current}: the machine is busy "
                  f"(load {load:.1f} on {cores} cores); {FLAG} N or {ENV}=N to choose")


def apply(requested: str | None) -> str | None:
    """Set torch's thread count by :func:`choose`; returns the note to print, if any."""
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:                       # not on Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):            # no load average here: nothing to avoid
        load = 0.0
    threads, note = choose(requested, os.environ, cores, load, torch.get_num_threads())
    if threads is not None:
        torch.set_num_threads(threads)
    return note
