"""ConvLSTM / ConvGRU exported to TorchScript and ONNX, every eval-mode option, checked at a third size.

Tiny layers (1-2 channels, 6x6 frames). Every parameter is redrawn at random
first, so peephole weights and norm gains are not their zero / one
initialisation and an option the twin ignored would show in the error.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lstmkit

C, CH, HW = 2, 2, 6

CONFIGS = {
    "convlstm": lambda: lstmkit.ConvLSTM(C, CH, 3, batch_first=True),
    "peephole_frame": lambda: lstmkit.ConvLSTM(C, CH, 3, batch_first=True, peephole=True, frame_size=(HW, HW)),
    "peephole_channel": lambda: lstmkit.ConvLSTM(C, CH, 3, batch_first=True, peephole=True),
    "layer_norm": lambda: lstmkit.ConvLSTM(C, CH, 3, batch_first=True, norm="layer"),
    "group_norm_zoneout": lambda: lstmkit.ConvLSTM(C, CH, 3, batch_first=True, norm="group", norm_groups=2,
                                                   zoneout=(0.2, 0.4)),
    "bi_stacked_all": lambda: lstmkit.ConvLSTM(C, CH, (3, 5), num_layers=2, bidirectional=True, batch_first=True,
                                               peephole=True, norm="layer", zoneout=0.1, dropout=0.5,
                                               recurrent_dropout=0.3, bias=False),
    "time_major_reference": lambda: lstmkit.ConvLSTM(C, CH, 3, fused=False),
    "convgru": lambda: lstmkit.ConvGRU(C, CH, 3, batch_first=True),
    "convgru_bi_stacked": lambda: lstmkit.ConvGRU(C, CH, 3, num_layers=2, bidirectional=True, zoneout=0.2,
                                                  bias=False),
}
ONNX_CONFIGS = ["bi_stacked_all", "group_norm_zoneout", "peephole_frame", "convgru_bi_stacked"]


def _make(name: str) -> nn.Module:
    torch.manual_seed(0)
    module = CONFIGS[name]()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.4)
    return module


def _inputs(module: nn.Module, batch: int, steps: int, lengths: bool, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, steps, C, HW, HW) if module.batch_first else (steps, batch, C, HW, HW)
    x = torch.randn(shape, generator=gen)
    if not lengths:
        return x
    lens = torch.randint(1, steps + 1, (batch,), generator=gen)
    lens[0] = steps
    return {"input": x, "lengths": lens}


def _run_file(path, fmt: str, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    if fmt == "torchscript":
        return list(torch.jit.load(str(path))(*tensors))
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), tensors)}
    return [torch.from_numpy(o) for o in session.run(None, feed)]


def _flat(out) -> list[torch.Tensor]:
    return [out[0], *(out[1] if isinstance(out[1], tuple) else (out[1],))]


def _check(name: str, fmt: str, lengths: bool, tmp_path) -> None:
    if fmt == "onnx":
        for mod in ("onnx", "onnxruntime", "onnxscript"):
            pytest.importorskip(mod, reason="ONNX export needs the export extra: pip install 'lstmkit[export]'")
    module = _make(name)
    path = tmp_path / f"{name}.{fmt}"
    result = lstmkit.export(module, _inputs(module, 2, 4, lengths), fmt, path)
    assert module.training, "the caller's module must stay in training mode"
    assert result.check_sizes == {"batch": 5, "time": 9} and result.max_abs_error < 1e-5, result.summary()
    example = _inputs(module, 3, 7, lengths, seed=1)  # a third size, seen by neither the export nor its check
    tensors = list(example.values()) if isinstance(example, dict) else [example]
    with torch.no_grad():
        expected = _flat(module.eval()(**example) if isinstance(example, dict) else module.eval()(example))
    got = _run_file(path, fmt, tensors)
    assert len(got) == len(expected) == (3 if isinstance(module, lstmkit.ConvLSTM) else 2)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and float((g - e).abs().max()) < 1e-5
    if lengths:  # outputs past each clip's length are exactly zero
        out = got[0] if module.batch_first else got[0].transpose(0, 1)
        for b, n in enumerate(example["lengths"].tolist()):
            assert not out[b, n:].any()
    if fmt == "onnx":  # one Scan per layer and direction: the time loop is not unrolled
        import onnx

        graph = onnx.load(str(path)).graph
        assert result.method == "scan"
        assert sum(n.op_type == "Scan" for n in graph.node) == len(module.cells)
        axes = [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
        assert axes[:2] == (["batch", "time"] if module.batch_first else ["time", "batch"])
        assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim][2:] == [C, HW, HW]


@pytest.mark.parametrize("lengths", [False, True])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_torchscript_conv_grid(name, lengths, tmp_path):
    _check(name, "torchscript", lengths, tmp_path)


@pytest.mark.parametrize("name", ONNX_CONFIGS)
def test_onnx_conv_grid(name, tmp_path):
    _check(name, "onnx", True, tmp_path)


def test_initial_state_is_an_input(tmp_path):
    module = _make("bi_stacked_all")
    rows = module.num_layers * module.num_directions
    h0, c0 = torch.randn(rows, 2, CH, HW, HW), torch.randn(rows, 2, CH, HW, HW)
    result = lstmkit.export(module, {"input": torch.randn(2, 4, C, HW, HW), "hx": (h0, c0)}, "torchscript",
                            tmp_path / "s.pt")
    assert result.inputs == ["input", "hx.0", "hx.1"] and result.check_sizes == {"batch": 5, "time": 9}
    x, h1, c1 = torch.randn(3, 6, C, HW, HW), torch.randn(rows, 3, CH, HW, HW), torch.randn(rows, 3, CH, HW, HW)
    with torch.no_grad():
        expected = _flat(module.eval()(x, (h1, c1)))
    got = torch.jit.load(str(tmp_path / "s.pt"))(x, h1, c1)
    for g, e in zip(got, expected):
        assert torch.allclose(g, e, atol=1e-5)


def test_twin_shares_the_layers_parameters():
    from lstmkit.exporter.modules import to_export_layer

    module = _make("peephole_frame")
    twin = to_export_layer(module, "script")
    assert twin.cells[0].w_ih is module.cells[0].weight_ih and twin.cells[0].w_ch is module.cells[0].weight_ch
