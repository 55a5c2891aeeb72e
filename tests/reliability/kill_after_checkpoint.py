"""Run the real ``lstmkit`` command line and SIGKILL it mid-epoch after its K-th checkpoint.

usage: kill_after_checkpoint.py K ARGS...   (ARGS as for ``python -m lstmkit.cli``)

Once ``last.ckpt`` has been written K times, the process kills itself with
SIGKILL at the next optimizer step, so the kill lands inside the following
epoch with a checkpoint on disk, as a user's ``kill -9`` would. Nothing
else of the command is changed: in particular not the thread count (CPU
results can differ in the last bits between thread counts, so the test runs
every process with the same ``OMP_NUM_THREADS``).
"""

import os
import signal
import sys

from torch.optim.optimizer import register_optimizer_step_pre_hook

from lstmkit.train import checkpoint as ckpt_module

if __name__ == "__main__":
    wanted = int(sys.argv[1])
    saved = {"last": 0}
    original = ckpt_module.atomic_torch_save

    def counting_save(obj, path):
        original(obj, path)
        if os.path.basename(os.fspath(path)) == "last.ckpt":
            saved["last"] += 1

    def kill_at_step(optimizer, args, kwargs):
        if saved["last"] >= wanted:
            os.kill(os.getpid(), signal.SIGKILL)

    ckpt_module.atomic_torch_save = counting_save
    register_optimizer_step_pre_hook(kill_at_step)
    from lstmkit.cli import main

    sys.exit(main(sys.argv[2:]))
