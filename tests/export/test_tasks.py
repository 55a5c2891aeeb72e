"""Every task's exported program (tiny untrained networks), and ``lstmkit export`` on a trained model."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("lightning", reason="the task models need the train extra: pip install 'lstmkit[train]'")

import lstmkit  # noqa: E402
from lstmkit.cli import main  # noqa: E402
from lstmkit.exporter import ExportError  # noqa: E402
from lstmkit.exporter.tasks import ADAPTERS, program_path, programs  # noqa: E402


def needs_onnx() -> None:
    for module in ("onnx", "onnxruntime", "onnxscript"):
        pytest.importorskip(module, reason="ONNX export needs the export extra: pip install 'lstmkit[export]'")


RELIABILITY = str(Path(__file__).resolve().parent.parent / "reliability")


def _classify(attention: bool = True, subwords: int = 0):
    from lstmkit.tasks.classify.model import ClassifierConfig, ClassifierNet

    cfg = ClassifierConfig(embed_dim=4, hidden=4, attn_size=3, subword_buckets=subwords,
                           pooling="attention" if attention else "max")
    return SimpleNamespace(net=ClassifierNet(cfg, 12, 3))


def _tag():
    from lstmkit.tasks.tag.model import TaggerConfig, TaggerNet

    cfg = TaggerConfig(word_dim=4, char_dim=3, char_hidden=2, hidden=4)
    return SimpleNamespace(taggers=[SimpleNamespace(net=TaggerNet(cfg, 10, 8, ["O", "B-PER", "I-PER"]))])


def _generate():
    from lstmkit.tasks.generate.model import LanguageModel, LanguageModelConfig

    # tie_weights with hidden != embed gives the LSTM a projection (proj_size = embed_size)
    cfg = LanguageModelConfig(embed_size=3, hidden_size=5, num_layers=2, tie_weights=True)
    return SimpleNamespace(pipeline=SimpleNamespace(model=LanguageModel(9, cfg)))


def _translate():
    from lstmkit.tasks.translate.model import Seq2Seq, Seq2SeqConfig

    cfg = Seq2SeqConfig(embed_size=4, hidden_size=4, attention="additive")
    return SimpleNamespace(pipeline=SimpleNamespace(model=Seq2Seq(10, 11, cfg)))


def _forecast():
    from lstmkit.tasks.forecast import Forecast, default_config

    fc = Forecast(default_config(2, 1, lookback=6, members=1))
    fc.nets = fc._new_nets()
    return fc


def _detect():
    from lstmkit.tasks.anomaly.models import EncDecNet

    return SimpleNamespace(net=EncDecNet(2, 4), window=6, mean=np.zeros(2))


def _detect_predictor():
    from lstmkit.tasks.anomaly.models import PredictorNet

    return SimpleNamespace(net=PredictorNet(2, 4), window=6, mean=np.zeros(2))


def _seqclass():
    from lstmkit.tasks.seqclass.model import SeqClassNet

    net = SeqClassNet(2, 3, model="lstm_fcn", hidden_size=4, pooling="attention", filters=(3, 3), kernels=(3, 2))
    return SimpleNamespace(nets=[net])


def _music_frames():
    from lstmkit.tasks.music.models import FrameModel

    return SimpleNamespace(model=FrameModel(6, head="nade", hidden_size=4, nade_size=3, zoneout=0.2))


def _music_voices():
    from lstmkit.tasks.music.models import VoiceModel

    return SimpleNamespace(model=VoiceModel(embed_size=4, hidden_size=4, num_layers=1))


def _video(model: str = "lrcn"):
    from lstmkit.tasks.video.models import LRCN, ConvLSTMClassifier, EncoderForecaster

    config = SimpleNamespace(data=SimpleNamespace(output_frames=3))
    if model == "nextframe":  # residual head starts at zero: give it weights so the frames depend on the net
        net = EncoderForecaster(1, 2, num_layers=2, kernel_size=3, patch=2, residual=True)
        torch.nn.init.normal_(net.head.weight, std=0.5)
    elif model == "convlstm":
        net = ConvLSTMClassifier(1, 3, hidden_channels=2, num_layers=2, kernel_size=3, patch=2, dropout=0.1)
    else:
        net = LRCN(1, 3, cnn_channels=2, hidden_size=4, dropout=0.1)
    return SimpleNamespace(net=net, frame_shape=(1, 8, 8), config=config)


def _speech(mode: str = "ctc"):
    from lstmkit.tasks.speech.model import SpeechNet

    return SimpleNamespace(net=SpeechNet(5, 4, mode=mode, hidden_size=4, num_layers=2, stack=2, dropout=0.1))


TASKS = {"speech": _speech, "speech-words": lambda: _speech("words"), "video": _video,
         "video-convlstm": lambda: _video("convlstm"), "video-nextframe": lambda: _video("nextframe"), "classify": _classify, "tag": _tag, "generate": _generate, "translate": _translate,
         "forecast": _forecast, "detect": _detect, "detect-predictor": _detect_predictor,
         "seqclass": _seqclass, "music-frames": _music_frames, "music-voices": _music_voices}


def test_every_registered_task_has_an_exporter():
    from lstmkit.tasks.base import TASKS as REGISTERED

    assert set(REGISTERED) == set(ADAPTERS)
    assert {name.split("-")[0] for name in TASKS} == set(ADAPTERS)


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_program(name, fmt, tmp_path):
    if fmt == "onnx":
        needs_onnx()
    torch.manual_seed(0)
    task = TASKS[name]()
    progs = programs(name.split("-")[0], task)
    for prog in progs:
        path = program_path(tmp_path / f"model.{fmt}", prog, len(progs))
        result = lstmkit.export(prog.module, prog.example(), fmt, path, dynamic=prog.dynamic,
                                check_example=prog.check(), output_names=prog.outputs,
                                input_names=prog.input_names)
        assert path.exists()
        assert result.max_abs_error < 1e-5, result.summary()
        assert result.check_sizes["batch"] == 5  # (the example's batch is 2)
    if name == "translate":
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"model.encoder.{fmt}", f"model.step.{fmt}"]
    if name in SCANS and fmt == "onnx":  # each ConvLSTM layer's time loop stays one ONNX Scan
        import onnx

        graph = onnx.load(str(path)).graph
        assert sum(n.op_type == "Scan" for n in graph.node) == SCANS[name]


SCANS = {"video-convlstm": 2, "video-nextframe": 2 + 3 * 2}  # 2 layers; encoder + 3 forecaster steps


def test_refused_task_options_are_one_line():
    with pytest.raises(ExportError, match="subword features") as err:
        programs("classify", _classify(subwords=16))
    assert "\n" not in str(err.value)
    with pytest.raises(ExportError, match="has 1 member"):
        programs("seqclass", _seqclass(), member=2)


@pytest.fixture(scope="module")
def trained_classifier(tmp_path_factory):
    """A classifier trained for one epoch by the command line (tests/reliability/tiny_tasks.py)."""
    sys.path.insert(0, RELIABILITY)
    try:
        from tiny_tasks import TASKS as FITS
    finally:
        sys.path.remove(RELIABILITY)
    d = tmp_path_factory.mktemp("clf")
    args = FITS["classify"](d) + ["--epochs", "1", "--out", str(d / "model")]
    assert main(args) == 0
    return d / "model"


def test_cli_exports_a_trained_model(trained_classifier, tmp_path, capsys):
    needs_onnx()
    import onnxruntime as ort

    out = tmp_path / "clf.onnx"
    assert main(["export", str(trained_classifier), "--format", "onnx", "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out} (onnx, scan); max abs error vs PyTorch at unseen batch=5, time=9: ")
    assert float(line.split(": ")[-1].split()[0]) < 1e-5
    # run it at yet another size and compare with the loaded task's network
    from lstmkit.exporter.tasks import load_task

    _, task = load_task(trained_classifier)
    tokens = torch.randint(2, task.net.embed.num_embeddings, (3, 7))
    lengths = torch.tensor([7, 2, 5])
    with torch.no_grad():
        expected = task.net.eval()(tokens, lengths)[0]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"tokens": tokens.numpy(), "lengths": lengths.numpy()})[0]
    assert np.abs(got - expected.numpy()).max() < 1e-5

    pt = tmp_path / "clf.pt"
    assert main(["export", str(trained_classifier), "--format", "torchscript", "--out", str(pt)]) == 0
    assert "(torchscript, script)" in capsys.readouterr().out
    assert torch.allclose(torch.jit.load(str(pt))(tokens, lengths)[0], expected, atol=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--member", "2"], "a classify model has one network; --member must be 1"),
    (["--tolerance", "-1"], "--tolerance: expected a positive number"),
])
def test_cli_refusals_are_one_line(trained_classifier, tmp_path, capsys, args, message):
    assert main(["export", str(trained_classifier), "--out", str(tmp_path / "m.onnx"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_cli_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit: error: ") and err.count("\n") == 1
