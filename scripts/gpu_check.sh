#!/usr/bin/env bash
# The GPU checks of the "triton" backend, as one script for a lent GPU machine
# (the device tool runs it in the repository root; $OUT comes back):
#   1. tests/kernels/test_triton.py on CUDA tensors (the same grid the CPU
#      machines run in Triton's interpreter), 2. benchmarks/triton_gpu.py.
# It uses the machine's own python3 (torch + triton preinstalled) with src/ on
# the path: nothing is built or installed.
set -euo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD/src
nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a "$OUT/gpu.txt"
python3 -m pytest -q -p no:cacheprovider tests/kernels/test_triton.py tests/layers/test_cuda.py 2>&1 | tee "$OUT/test_triton.txt" | tail -5
python3 benchmarks/triton_gpu.py ${QUICK:+--quick} --out "$OUT/triton_gpu.json" 2>&1 | tee "$OUT/bench.txt"
