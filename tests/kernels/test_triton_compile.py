"""The "triton" backend's kernels pass Triton's real compiler, without a GPU.

Triton's interpreter (what tests/kernels/test_triton.py runs where there is no
CUDA) executes the kernels as Python: it accepts code that the compiler refuses.
A layer-norm LSTM compiled on an H200 failed with ``Cannot access global
variable LN_EPS from within @jit'ed function`` while every interpreter test
passed. So this module records every kernel launch the backend makes on a set
of layers covering every option (kernel, argument types, compile-time
constants), then compiles each distinct launch ahead of time for an NVIDIA
target (``triton.compile`` on an ``ASTSource`` down to the cubin, with the
``ptxas`` that ships in Triton's wheel) in a subprocess where the interpreter
is off. No GPU or driver is needed.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

triton = pytest.importorskip("triton", reason="Triton is not installed (the 'gpu' extra)")

import lstmkit  # noqa: E402

if torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("records launches under Triton's interpreter (tests/conftest.py sets it where there is "
                "no CUDA; with CUDA, tests/kernels/test_triton.py compiles them for real)",
                allow_module_level=True)

from lstmkit.kernels.triton import pointwise as pw  # noqa: E402

LAYERS = {"LSTM": lstmkit.LSTM, "GRU": lstmkit.GRU, "RNN": lstmkit.RNN}
# every option of every family at least once, with and without lengths
CASES = [
    ("LSTM", {}, None),
    ("LSTM", {"peephole": True, "coupled_gates": True, "layer_norm": True, "proj_size": 3,
              "zoneout": 0.25, "recurrent_dropout": 0.2, "bidirectional": True}, [4, 1, 3]),
    ("LSTM", {"layer_norm": True, "zoneout": (0.3, 0.2)}, None),
    ("LSTM", {"peephole": True}, [4, 2, 3]),
    ("GRU", {}, None),
    ("GRU", {"reset_after": False, "zoneout": 0.3, "recurrent_dropout": 0.2}, [4, 1, 3]),
    ("RNN", {"nonlinearity": "tanh", "zoneout": 0.3}, None),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, [4, 1, 3]),
]
KERNELS = [name for name, obj in vars(pw).items() if hasattr(obj, "fn") and not name.startswith("_")]
POINTER = {torch.float32: "*fp32", torch.float64: "*fp64", torch.float16: "*fp16", torch.bfloat16: "*bf16",
           torch.int64: "*i64", torch.int32: "*i32", torch.bool: "*i1", torch.uint8: "*u8"}


class _Recorder:
    """Stands in for one kernel: records each launch's signature, then runs the kernel."""

    def __init__(self, name: str, kernel, log: list) -> None:
        self.name, self.kernel, self.log = name, kernel, log
        self.params = list(inspect.signature(kernel.fn).parameters)

    def __getitem__(self, grid):
        launch = self.kernel[grid]

        def call(*args, **kwargs):
            values = dict(zip(self.params, args)) | kwargs
            types, constants = {}, {}
            for param in self.params:
                value = values[param]
                if param in kwargs:  # the backend passes every compile-time constant by keyword
                    constants[param] = value if isinstance(value, bool | int | float) else str(value)
                elif isinstance(value, torch.Tensor):
                    types[param] = POINTER[value.dtype]
                elif isinstance(value, int):
                    types[param] = "i32"
                else:
                    types[param] = "fp32"
            self.log.append({"kernel": self.name, "types": types, "constants": constants})
            return launch(*args, **kwargs)

        return call


@pytest.fixture(scope="module")
def launches():
    log: list[dict] = []
    patch = pytest.MonkeyPatch()
    patch.setenv("LSTMKIT_TRITON_CPU", "1")  # the backend takes CPU tensors (interpreter) in this module
    for name in KERNELS:
        patch.setattr(pw, name, _Recorder(name, getattr(pw, name), log))
    try:
        for dtype in (torch.float32, torch.float16):
            for family, opts, lengths in CASES:
                torch.manual_seed(0)
                layer = LAYERS[family](3, 4, backend="triton", dtype=dtype, **opts).train()
                x = torch.randn(4, 3, 3, dtype=dtype, requires_grad=True)
                out, _ = layer(x, lengths=None if lengths is None else torch.tensor(lengths))
                out.float().sum().backward()
    finally:
        patch.undo()
    unique = {json.dumps(entry, sort_keys=True): entry for entry in log}
    return list(unique.values())


COMPILE = textwrap.dedent("""
    import json, sys
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from lstmkit.kernels.triton import pointwise as pw

    failures = []
    for entry in json.load(sys.stdin):
        fn = getattr(pw, entry["kernel"])
        names = list(fn.arg_names)
        signature = {n: entry["types"].get(n, "constexpr") for n in names}
        constants = {(names.index(n),): v for n, v in entry["constants"].items()}
        try:
            compiled = triton.compile(ASTSource(fn, signature, constexprs=constants),
                                      target=GPUTarget("cuda", 90, 32))
            assert compiled.asm.get("cubin"), "no cubin"
        except Exception as err:
            failures.append({"launch": entry, "error": f"{type(err).__name__}: {err}"[-1500:]})
    print(json.dumps(failures))
""")


def test_every_launch_compiles_for_an_nvidia_gpu(launches):
    kernels = {entry["kernel"] for entry in launches}
    assert {"lstm_forward_step", "lstm_backward_step", "mix_forward_step", "mix_backward_step",
            "gru_forward_rz", "rnn_forward_step", "rnn_backward_step"} <= kernels
    assert any(e["constants"].get("LN") for e in launches if e["kernel"] == "lstm_forward_step")
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", "LSTMKIT_TRITON_CPU")}
    env.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    done = subprocess.run([sys.executable, "-c", COMPILE], input=json.dumps(launches), env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "\n\n".join(f"{f['launch']}\n{f['error']}" for f in failures[:3])
