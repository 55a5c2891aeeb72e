"""Shared test settings: one thread per test worker (the machine has 2 cores)."""

import torch

torch.set_num_threads(1)
