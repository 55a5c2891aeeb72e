"""Every ```python block of ``docs/*.md`` runs as written.

The blocks of one doc run in order in one namespace (later blocks use the
names of earlier ones), in a temporary working directory that holds tiny
fixture files under the names the doc uses (``train.csv``, ``test.conllu``,
``train.en`` ...; see :data:`FIXTURES`).

To keep the suite fast, :func:`capped_training` wraps
:func:`lstmkit.train.fit` (what every task's ``Task._train_member`` and the
training doc call) so that every fit runs at most 1 epoch of at most
2 optimiser steps (20 for translate.md, see :data:`STEPS`): every code path
a doc shows executes, only shorter.
The tests check that the cap was used, so a fit that bypassed it would
show up here as a slow test, not as a silently long one.

A block that is only a sketch is fenced ```py-sketch with a sentence saying
so; a doc with Python must still have at least one block that runs.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lightning", reason="the docs' examples need the train extra: pip install 'lstmkit[train]'")
import pandas as pd  # noqa: E402  (part of the train extra)

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
FENCE = re.compile(r"^```([\w-]*)$", flags=re.M)
MAX_EPOCHS, MAX_STEPS = 1, 2  # per training run: epochs, and batches per epoch
# translate.md draws the attention map of a translation: after 2 steps the network translates every
# sentence to the empty string (beam search with length normalisation stops at once), which
# ``attention`` refuses to draw; 20 steps teach it the first words.
STEPS = {"translate.md": 20}


def python_blocks(doc: Path) -> list[str]:
    return BLOCK.findall(doc.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- fixture files, per doc
def _series(n_series: int = 2, length: int = 150) -> pd.DataFrame:
    """Monthly seasonal series (season 12), long format."""
    parts = []
    for i in range(n_series):
        t = np.arange(length)
        y = 50 + 10 * i + 5 * np.sin(2 * np.pi * t / 12) + 0.1 * t
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "y": y,
                                   "ds": pd.date_range("2000-01-01", periods=length, freq="MS")}))
    return pd.concat(parts, ignore_index=True)[["unique_id", "ds", "y"]]


def _forecasting(root: Path) -> None:
    full = _series()
    full.to_csv(root / "all.csv", index=False)
    head = full.groupby("unique_id").head(126)
    head.to_csv(root / "train.csv", index=False)
    full.drop(head.index).to_csv(root / "val.csv", index=False)


def _signal(n: int, seed: int, fault: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.05, n)
    label = np.zeros(n, dtype=int)
    if fault:
        y[200:210] += 3.0
        label[200:210] = 1
    frame = pd.DataFrame({"ds": np.arange(n), "y": y})
    if fault:
        frame["label"] = label
    return frame


def _anomaly(root: Path) -> None:
    _signal(400, seed=0, fault=False).to_csv(root / "normal.csv", index=False)
    _signal(300, seed=1, fault=True).to_csv(root / "test.csv", index=False)


REVIEWS = {"pos": ["a great film", "great acting and a fine story", "i loved it", "a fine great cast"],
           "neg": ["a bad film", "awful acting and a dull story", "i hated it", "a dull bad cast"]}


def _reviews(n: int, offset: int = 0) -> pd.DataFrame:
    labels = ["pos" if i % 2 == 0 else "neg" for i in range(n)]
    texts = [REVIEWS[label][(i // 2 + offset) % 4] for i, label in enumerate(labels)]
    return pd.DataFrame({"text": texts, "label": labels})


def _classify(root: Path) -> None:
    _reviews(24).to_csv(root / "train.csv", index=False)
    _reviews(8, offset=1).to_csv(root / "test.csv", index=False)
    _reviews(4, offset=2)[["text"]].to_csv(root / "new.csv", index=False)


VERSES = ["In the beginning God created the heaven and the earth.",
          "And the earth was without form, and void.",
          "And God said, Let there be light: and there was light.",
          "And God saw the light, that it was good."]


def _generate(root: Path) -> None:
    (root / "train.txt").write_text("\n".join(VERSES * 6) + "\n", encoding="utf-8")
    (root / "held_out.txt").write_text("\n".join(VERSES[1:3]) + "\n", encoding="utf-8")


TAGS = {"Ali": "PROPN", "Ayşe": "PROPN", "eve": "NOUN", "okula": "NOUN", "geldi": "VERB",
        "gitti": "VERB", "bugün": "ADV", "dün": "ADV", ".": "PUNCT"}


def _conllu(n: int, offset: int) -> str:
    names, places, verbs, times = ["Ali", "Ayşe"], ["eve", "okula"], ["geldi", "gitti"], ["bugün", "dün"]
    sentences = []
    for i in range(offset, offset + n):
        words = [names[i % 2], times[(i // 2) % 2], places[(i // 4) % 2], verbs[i % 2], "."]
        lines = [f"# sent_id = s{i}"]
        lines += [f"{k}\t{w}\t_\t{TAGS[w]}\t_\t_\t0\t_\t_\t_" for k, w in enumerate(words, 1)]
        sentences.append("\n".join(lines) + "\n")
    return "\n".join(sentences) + "\n"


def _tag(root: Path) -> None:
    (root / "train.conllu").write_text(_conllu(20, 0), encoding="utf-8")
    (root / "test.conllu").write_text(_conllu(6, 20), encoding="utf-8")


PAIRS = [("In the beginning.", "En el principio."), ("God created the earth.", "Dios creó la tierra."),
         ("Jesus wept.", "Jesús lloró."), ("The light was good.", "La luz era buena.")]


def _translate(root: Path) -> None:
    # 20 batches of the default 32 pairs (see STEPS)
    (root / "train.en").write_text("\n".join(en for en, _ in PAIRS * 160) + "\n", encoding="utf-8")
    (root / "train.es").write_text("\n".join(es for _, es in PAIRS * 160) + "\n", encoding="utf-8")
    for name, pairs in (("dev.tsv", PAIRS[:2]), ("test.tsv", PAIRS[2:])):
        (root / name).write_text("".join(f"{en}\t{es}\n" for en, es in pairs), encoding="utf-8")


def _music(root: Path) -> None:
    from lstmkit.tasks.music.data import find_jsb

    try:
        find_jsb()
    except FileNotFoundError:
        pytest.skip("docs/music.md trains on JSB Chorales: shared/data/jsb_chorales.json is not on this machine")


def _tag_lexicon(root: Path) -> None:
    if not Path("/usr/share/hunspell/tr_TR.dic").is_file():
        pytest.skip("docs/tag.md uses /usr/share/hunspell/tr_TR.dic (installed by install_data.sh): absent")
    _tag(root)


def _video(root: Path) -> None:
    from lstmkit.tasks.video.synth import fashion_dir

    if not (fashion_dir() / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("docs/video.md generates clips from Fashion-MNIST (dataset-fashion-mnist): absent")


FIXTURES: dict[str, Callable[[Path], None]] = {
    "anomaly.md": _anomaly,
    "classify.md": _classify,
    "forecasting.md": _forecasting,
    "generate.md": _generate,
    "music.md": _music,
    "tag.md": _tag_lexicon,
    "translate.md": _translate,
    "video.md": _video,
}

RUNNABLE = sorted(path.name for path in DOCS.glob("*.md") if python_blocks(path))


# ---------------------------------------------------------------- the training cap
@pytest.fixture
def capped_training(monkeypatch):
    """``cap(steps)`` replaces :func:`lstmkit.train.fit` everywhere it is bound by one capped at 1 epoch.

    The capped fit runs the real one with ``max_epochs=1``, on a Lightning
    ``Trainer`` limited to ``steps`` training and validation batches (so the
    epoch still ends, validates, checkpoints and early-stops as usual).
    ``cap`` returns the configs the capped fit receives (one per training run).
    """
    import lightning

    import lstmkit.train
    import lstmkit.train.engine as engine

    original, trainer = engine.fit, engine.L.Trainer
    assert engine.L is lightning
    # ``lstmkit.train.fit`` is a lazy export: resolve it now, or monkeypatch would
    # record the already-capped ``engine.fit`` as the value to restore.
    assert lstmkit.train.fit is original
    capped: list = []

    def cap(steps: int) -> list:
        calls: list = []

        class CappedTrainer(trainer):
            def __init__(self, *args, **kwargs):
                kwargs.update(limit_train_batches=steps, limit_val_batches=steps)
                super().__init__(*args, **kwargs)

        def capped_fit(module, train_dataloaders, val_dataloaders=None, config=None, **hooks):
            config = lstmkit.train.TrainConfig() if config is None else config
            calls.append(config)
            return original(module, train_dataloaders, val_dataloaders,
                            config.replace(max_epochs=min(config.max_epochs, MAX_EPOCHS)), **hooks)

        capped.append(capped_fit)
        monkeypatch.setattr(lightning, "Trainer", CappedTrainer)
        monkeypatch.setattr(engine, "fit", capped_fit)
        monkeypatch.setattr(lstmkit.train, "fit", capped_fit)
        # modules that bound the name at import time (``from lstmkit.train import fit``)
        for name, module in list(sys.modules.items()):
            if name.startswith("lstmkit.") and getattr(module, "fit", None) is original:
                monkeypatch.setattr(module, "fit", capped_fit)
        return calls

    yield cap
    # A module first imported while the cap was on bound the capped ``fit`` by
    # ``from lstmkit.train import fit``; monkeypatch does not know it, so restore
    # it here, or every later test in this process would train for 1 epoch.
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("lstmkit.") and getattr(module, "fit", None) in capped:
            module.fit = original


def _capped_rl(monkeypatch) -> list:
    """``lstmkit.rl.train`` capped at one PPO update (``n_envs * n_steps`` environment steps);
    returns the configs it receives, as ``capped_training`` does for ``fit``."""
    pytest.importorskip("gymnasium", reason="docs/rl.md needs the rl extra: pip install 'lstmkit[rl]'")
    import lstmkit.rl
    import lstmkit.rl.ppo as ppo

    original, calls = ppo.train, []

    def capped(env_fn, config=None, *args, **kwargs):
        config = ppo.PPOConfig() if config is None else config
        calls.append(config)
        short = dataclasses.replace(config, total_steps=config.n_envs * config.n_steps)
        return original(env_fn, short, *args, **kwargs)

    monkeypatch.setattr(ppo, "train", capped)
    monkeypatch.setattr(lstmkit.rl, "train", capped)
    return calls


# ---------------------------------------------------------------- the tests
def test_docs_with_python_examples_are_found():
    assert {"training.md", "forecasting.md", "anomaly.md", "classify.md", "tag.md",
            "generate.md", "translate.md", "music.md"} <= set(RUNNABLE)


@pytest.mark.parametrize("doc", sorted(path.name for path in DOCS.glob("*.md")))
def test_every_doc_with_python_runs_some_of_it(doc):
    """A doc whose Python is all fenced as sketches would test nothing: at least one block must run."""
    fences = set(FENCE.findall((DOCS / doc).read_text(encoding="utf-8")))
    assert not fences & {"py", "python3", "pycon"}, f"{doc}: fence Python as ```python (runs) or ```py-sketch"
    if "py-sketch" in fences:
        assert python_blocks(DOCS / doc), f"{doc}: only sketches; at least one ```python block must run"


@pytest.mark.parametrize("doc", RUNNABLE)
def test_doc_python_blocks_run(doc, tmp_path, monkeypatch, capped_training):
    monkeypatch.chdir(tmp_path)
    FIXTURES.get(doc, lambda root: None)(tmp_path)
    namespace: dict = {"__name__": f"docs_{Path(doc).stem}"}
    calls = capped_training(STEPS.get(doc, MAX_STEPS))
    if doc == "rl.md":  # reinforcement learning does not train through lstmkit.train.fit
        calls = _capped_rl(monkeypatch)
    blocks = python_blocks(DOCS / doc)
    for k, block in enumerate(blocks, 1):
        exec(compile(block, f"{DOCS / doc} (python block {k})", "exec"), namespace)
    assert calls, f"{doc}: its examples trained nothing through lstmkit.train.fit"
