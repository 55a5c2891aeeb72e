"""The option grid: every layer and option, exported to TorchScript and ONNX, checked twice.

``lstmkit.export`` checks its program at one unseen size itself; these tests
load the written file again and compare it with the module at a third size
(batch 3, length 7) that neither the export nor its own check used.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit.exporter import ExportError, ExportMismatch

I, H = 3, 4
L = lambda **k: lstmkit.LSTM(I, H, batch_first=True, **k)  # noqa: E731

# every option alone, both GRU conventions, both RNN nonlinearities, torch.nn's own layers, combinations
CONFIGS = {
    "lstm": lambda: L(),
    "peephole": lambda: L(peephole=True),
    "layer_norm": lambda: L(layer_norm=True),
    "cifg": lambda: L(coupled_gates=True),
    "proj": lambda: L(proj_size=2),
    "no_bias": lambda: L(bias=False),
    "zoneout": lambda: L(zoneout=(0.2, 0.4)),
    "dropouts": lambda: L(num_layers=2, dropout=0.5, recurrent_dropout=0.3, weight_drop=0.3),
    "bidirectional": lambda: L(bidirectional=True),
    "stacked_residual": lambda: lstmkit.LSTM(I, H, num_layers=3, residual=True, batch_first=True),
    "bi_stacked": lambda: L(num_layers=2, bidirectional=True),
    "all_lstm_options": lambda: L(num_layers=2, bidirectional=True, peephole=True, layer_norm=True,
                                  coupled_gates=True, proj_size=3, zoneout=0.1, residual=True),
    "time_major": lambda: lstmkit.LSTM(I, H, peephole=True),
    "gru": lambda: lstmkit.GRU(I, H, batch_first=True),
    "gru_reset_before": lambda: lstmkit.GRU(I, H, batch_first=True, reset_after=False),
    "gru_bi_stacked_cho": lambda: lstmkit.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True,
                                              reset_after=False, zoneout=0.2),
    "rnn_tanh": lambda: lstmkit.RNN(I, H, batch_first=True),
    "rnn_relu": lambda: lstmkit.RNN(I, H, batch_first=True, nonlinearity="relu", num_layers=2),
    "torch_lstm": lambda: nn.LSTM(I, H, batch_first=True, bidirectional=True, num_layers=2),
    "torch_lstm_proj": lambda: nn.LSTM(I, H, batch_first=True, proj_size=2),
    "torch_gru": lambda: nn.GRU(I, H, batch_first=True),
    "torch_rnn_relu": lambda: nn.RNN(I, H, batch_first=True, nonlinearity="relu"),
}
WITH_LENGTHS = {"lstm", "peephole", "bidirectional", "bi_stacked", "all_lstm_options", "gru_bi_stacked_cho",
                "rnn_relu", "stacked_residual", "time_major"}
# ONNX exports through torch.export take seconds each: the ONNX grid covers every option at least once
# (dropouts have no effect in eval mode and the RNN's tanh differs from relu in one op: TorchScript only)
ONNX_CONFIGS = ["all_lstm_options", "peephole", "layer_norm", "gru_bi_stacked_cho", "gru", "rnn_relu",
                "torch_lstm", "torch_lstm_proj", "torch_gru"]


def _inputs(module: nn.Module, batch: int, steps: int, lengths: bool, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, steps, I) if module.batch_first else (steps, batch, I)
    x = torch.randn(shape, generator=gen)
    if not lengths:
        return x
    lens = torch.randint(1, steps + 1, (batch,), generator=gen)
    lens[0] = steps
    return {"input": x, "lengths": lens}


def _third_size_error(module: nn.Module, path, fmt: str, lengths: bool) -> float:
    """Run the written file at batch 3, length 7 and return the max abs error against ``module``."""
    example = _inputs(module, 3, 7, lengths, seed=1)
    tensors = list(example.values()) if isinstance(example, dict) else [example]
    module = module.eval()
    with torch.no_grad():
        out = module(**example) if isinstance(example, dict) else module(example)
    expected = [out[0], *(out[1] if isinstance(out[1], tuple) else (out[1],))]
    if fmt == "torchscript":
        got = list(torch.jit.load(str(path))(*tensors))
    else:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), tensors)}
        got = [torch.from_numpy(o) for o in session.run(None, feed)]
    assert len(got) == len(expected)
    return max(float((g - e).abs().max()) for g, e in zip(got, expected))


def needs_onnx() -> None:
    for module in ("onnx", "onnxruntime", "onnxscript"):
        pytest.importorskip(module, reason="ONNX export needs the export extra: pip install 'lstmkit[export]'")


def _check(name: str, fmt: str, lengths: bool, tmp_path) -> None:
    if fmt == "onnx":
        needs_onnx()
    torch.manual_seed(0)
    module = CONFIGS[name]()
    path = tmp_path / f"{name}.{fmt}"
    result = lstmkit.export(module, _inputs(module, 2, 5, lengths), fmt, path)
    assert module.training, "the caller's module must stay in training mode"
    assert path.exists() and result.path == path
    assert result.check_sizes == {"batch": 5, "time": 10}
    assert result.max_abs_error < 1e-5, result.summary()
    assert _third_size_error(module, path, fmt, lengths) < 1e-5
    if result.method == "scan":  # one ONNX Scan per layer and direction: the time loop is not unrolled
        import onnx

        graph = onnx.load(str(path)).graph
        scans = sum(n.op_type == "Scan" for n in graph.node)
        assert scans == module.num_layers * (2 if module.bidirectional else 1)
        axes = [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim[:2]]
        assert axes == (["batch", "time"] if module.batch_first else ["time", "batch"])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_torchscript_grid(name, tmp_path):
    _check(name, "torchscript", False, tmp_path)


@pytest.mark.parametrize("name", sorted(WITH_LENGTHS))
def test_torchscript_grid_with_lengths(name, tmp_path):
    _check(name, "torchscript", True, tmp_path)


@pytest.mark.parametrize("name", ONNX_CONFIGS)
def test_onnx_grid(name, tmp_path):
    _check(name, "onnx", name in WITH_LENGTHS or name.startswith("gru"), tmp_path)


def test_onnx_method_per_configuration():
    from lstmkit.exporter.api import choose_method

    assert choose_method(nn.LSTM(2, 3), "onnx") == "legacy"  # ONNX's own LSTM op
    assert choose_method(nn.LSTM(2, 3, proj_size=1), "onnx") == "scan"  # the legacy exporter has no proj
    assert choose_method(lstmkit.LSTM(2, 3), "onnx") == "scan"
    assert choose_method(nn.Linear(2, 3), "onnx") == "dynamo"
    assert choose_method(lstmkit.GRU(2, 3), "torchscript") == "script"


def test_unseen_size_check_catches_a_baked_in_length(tmp_path):
    """torch.export (dynamo) fixes nn.RNN to the example's T: the check must refuse the file."""
    needs_onnx()
    path = tmp_path / "rnn.onnx"
    with pytest.raises(ExportError) as err:
        lstmkit.export(nn.RNN(I, H, batch_first=True), torch.randn(2, 5, I), "onnx", path, method="dynamo")
    assert "\n" not in str(err.value)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_mismatch_writes_nothing(tmp_path):
    class Bake(nn.Module):  # tracing turns float(size) into a constant: wrong at any other batch
        def forward(self, x):
            return x + float(x.shape[0])

    path = tmp_path / "bake.pt"
    with pytest.raises(ExportMismatch, match="max abs error 3 exceeds"):
        lstmkit.export(Bake(), torch.randn(2, 5, I), "torchscript", path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("example, message", [
    (lambda: torch.randn(1, 5, I), "batch size of input 'input' is 1"),
    (lambda: torch.randn(2, 1, I), "time size of input 'input' is 1"),
    (lambda: "text", "expected a tensor, a tuple or a dict"),
])
def test_refused_examples_are_one_line(example, message, tmp_path):
    with pytest.raises(ExportError, match=message) as err:
        lstmkit.export(L(), example(), "torchscript", tmp_path / "m.pt")
    assert "\n" not in str(err.value)


def test_refused_packed_input_and_format(tmp_path):
    from torch.nn.utils.rnn import pack_padded_sequence

    packed = pack_padded_sequence(torch.randn(2, 5, I), [5, 3], batch_first=True)
    with pytest.raises(ExportError, match="PackedSequence, which cannot be exported") as err:
        lstmkit.export(L(), packed, "torchscript", tmp_path / "m.pt")
    assert "\n" not in str(err.value)
    with pytest.raises(ExportError, match="format: expected one of"):
        lstmkit.export(L(), torch.randn(2, 5, I), "tflite", tmp_path / "m.tfl")


def test_unbatched_input_and_initial_state(tmp_path):
    torch.manual_seed(0)
    lstm = L(num_layers=2, proj_size=2)
    h0, c0 = torch.randn(2, 2, 2), torch.randn(2, 2, H)
    result = lstmkit.export(lstm, {"input": torch.randn(2, 5, I), "hx": (h0, c0)}, "torchscript", tmp_path / "a.pt")
    assert result.inputs == ["input", "hx.0", "hx.1"] and result.check_sizes == {"batch": 5, "time": 10}
    program = torch.jit.load(str(tmp_path / "a.pt"))
    x, h1, c1 = torch.randn(3, 7, I), torch.randn(2, 3, 2), torch.randn(2, 3, H)
    with torch.no_grad():
        expected = lstm.eval()(x, (h1, c1))
    got = program(x, h1, c1)
    for g, e in zip(got, [expected[0], *expected[1]]):
        assert torch.allclose(g, e, atol=1e-6)

    gru = lstmkit.GRU(I, H, reset_after=False)
    result = lstmkit.export(gru, torch.randn(5, I), "torchscript", tmp_path / "b.pt")  # (T, I): no batch axis
    assert result.check_sizes == {"time": 10}
    x = torch.randn(8, I)
    with torch.no_grad():
        expected = gru.eval()(x)
    got = torch.jit.load(str(tmp_path / "b.pt"))(x)
    assert all(torch.allclose(g, e, atol=1e-6) for g, e in zip(got, expected))


def test_import_lstmkit_does_not_import_the_exporters():
    import subprocess
    import sys

    code = "import sys, lstmkit; print(sorted(m for m in ('onnx', 'onnxruntime', 'onnxscript') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_torch_without_scan_is_one_line(monkeypatch):
    import sys

    from lstmkit.exporter._scan import PINNED, get_scan

    assert callable(get_scan())
    monkeypatch.setitem(sys.modules, "torch._higher_order_ops.scan", None)  # the import now fails
    with pytest.raises(ExportError, match=f"needs {PINNED}") as err:
        get_scan()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("make", [lambda: lstmkit.MinGRU(I, H, batch_first=True),
                                  lambda: lstmkit.SLSTM(I, H, batch_first=True)])
def test_layers_without_an_export_twin_are_refused_by_the_check(make, tmp_path):
    """The xLSTM / minimal-RNN layers have no twin yet: tracing fixes their loop, the check refuses."""
    with pytest.raises(ExportMismatch, match="cannot run at the check sizes") as err:
        lstmkit.export(make(), torch.randn(2, 5, I), "torchscript", tmp_path / "m.pt")
    assert "\n" not in str(err.value) and not list(tmp_path.iterdir())
