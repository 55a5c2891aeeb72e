"""Transfer from a trained language model to another task's encoder (ULMFiT-style).

1. :func:`load_lm_encoder` reads a saved language model and returns its
   tokenizer, vocabulary, sizes and the embedding / LSTM weights.
2. The receiving task builds its encoder with those sizes (embedding
   ``embed_size``; an ``lstmkit.LSTM`` of ``hidden_size`` and
   ``num_layers``; bidirectional allowed) and calls :func:`apply_lm_encoder`,
   which copies the embedding rows of every token the two vocabularies share
   and the forward-direction LSTM weights layer by layer (a reverse direction,
   absent from a language model, keeps its fresh initialisation).
3. :class:`GradualUnfreeze` keeps the copied parameters frozen for
   ``freeze_epochs`` epochs, then unfreezes one group per ``unfreeze_every``
   epochs from the top LSTM layer down to the embedding (Howard & Ruder 2018).

Freezing zeroes the gradients of frozen parameters (a hook), rather than
switching ``requires_grad`` off, so the optimizer built at the start of
training already holds every parameter: with Adam(W) a zero gradient and
zero moments give a zero step (and no weight decay is applied when
``weight_decay`` is 0, the default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from lstmkit.text import Vocab, tokenizer_from_config
from lstmkit.train import load_model

from .config import network_from_record

_LAYER = re.compile(r"_l(\d+)$")


@dataclass(frozen=True)
class PretrainedEncoder:
    """What a language model offers an encoder: tokenizer, vocabulary, sizes and weights."""

    tokenizer: object
    vocab: Vocab
    embed_size: int
    hidden_size: int
    num_layers: int
    embedding: Tensor  # (V, D)
    lstm_state: dict[str, Tensor]  # lstmkit.LSTM state_dict of the LM (forward direction only)
    path: Path


@dataclass(frozen=True)
class TransferReport:
    """How much of the encoder was initialised from the language model."""

    tokens_copied: int
    tokens_total: int
    lstm_tensors_copied: int
    lstm_tensors_total: int


def load_lm_encoder(path: str | Path) -> PretrainedEncoder:
    """Read a saved ``generate`` model directory (``ModelLoadError`` on any problem)."""
    saved = load_model(path, task="generate")
    config = network_from_record(saved.config)
    if config.tie_weights and config.hidden_size != config.embed_size:
        raise ValueError(
            f"encoder {path}: a tied model with hidden_size {config.hidden_size} != embed_size "
            f"{config.embed_size} has a projected LSTM that a classifier encoder cannot mirror"
        )
    lstm_state = {k[len("lstm.") :]: v for k, v in saved.state_dict.items() if k.startswith("lstm.")}
    return PretrainedEncoder(
        tokenizer=tokenizer_from_config(saved.extras["tokenizer"]),
        vocab=Vocab.from_dict(saved.extras["vocab"]),
        embed_size=config.embed_size,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        embedding=saved.state_dict["embedding.weight"],
        lstm_state=lstm_state,
        path=Path(path),
    )


@torch.no_grad()
def apply_lm_encoder(
    pretrained: PretrainedEncoder, embedding: nn.Embedding, lstm: nn.Module, vocab: Vocab
) -> TransferReport:
    """Copy the LM's embedding rows (matched by token string) and LSTM weights into an encoder.

    ``vocab`` is the receiving task's vocabulary (it may differ from the LM's:
    tokens missing from the LM keep their fresh rows). Tokens match exactly or,
    failing that, after stripping the leading space that a generation model's
    word tokens keep (``" light"`` serves ``"light"``; the more frequent form
    wins). LSTM tensors are copied
    when the name and shape match (``weight_ih_l0``, ``bias_hh_l1``, ...);
    ``*_reverse`` tensors and layers beyond the LM's depth are left alone.
    """
    if embedding.weight.shape[1] != pretrained.embed_size:
        raise ValueError(
            f"embedding: expected dimension {pretrained.embed_size} to match the language model, "
            f"received {embedding.weight.shape[1]}"
        )
    stripped: dict[str, int] = {}
    for lm_id, lm_token in enumerate(pretrained.vocab.itos):  # frequency order: first form wins
        stripped.setdefault(lm_token.strip() or lm_token, lm_id)
    specials = set(vocab.specials)
    copied = 0
    for index, token in enumerate(vocab.itos[: embedding.weight.shape[0]]):
        if token in specials:
            continue
        lm_id = pretrained.vocab.stoi.get(token, stripped.get(token.strip() or token))
        if lm_id is not None:
            embedding.weight[index].copy_(pretrained.embedding[lm_id])
            copied += 1
    target = lstm.state_dict()
    n_lstm = 0
    for name, value in pretrained.lstm_state.items():
        if name in target and target[name].shape == value.shape:
            target[name].copy_(value)
            n_lstm += 1
    if n_lstm == 0:
        raise ValueError(
            f"lstm: no tensor matches the language model's (hidden_size {pretrained.hidden_size}, "
            f"num_layers {pretrained.num_layers}); build the encoder with those sizes"
        )
    lstm.load_state_dict(target)
    return TransferReport(copied, len(vocab) - len(specials), n_lstm, len(pretrained.lstm_state))


def layer_groups(embedding: nn.Embedding, lstm: nn.Module) -> list[list[nn.Parameter]]:
    """Parameter groups from the top LSTM layer down to the embedding (the unfreezing order)."""
    by_layer: dict[int, list[nn.Parameter]] = {}
    for name, param in lstm.named_parameters():
        match = _LAYER.search(name.replace("_reverse", ""))
        layer = int(match.group(1)) if match else 0
        by_layer.setdefault(layer, []).append(param)
    groups = [by_layer[k] for k in sorted(by_layer, reverse=True)]
    groups.append(list(embedding.parameters()))
    return groups


class GradualUnfreeze:
    """Freeze the encoder, then unfreeze group by group, top first.

    At epoch e (0-based) the first u(e) groups of :func:`layer_groups` train,
    u(e) = 0 for e < F and u(e) = 1 + (e - F) // K otherwise
    (F = ``freeze_epochs``, K = ``unfreeze_every``); the others get zero
    gradients. ``epoch``: a callable returning the current epoch (e.g.
    ``lambda: module.current_epoch`` of the LightningModule), read at every
    backward pass; without it, call :meth:`set_epoch` at each epoch start.
    :meth:`remove` drops the hooks.
    """

    def __init__(self, groups: list[list[nn.Parameter]], freeze_epochs: int = 1, unfreeze_every: int = 1,
                 epoch: Callable[[], int] | None = None):
        if freeze_epochs < 0:
            raise ValueError(f"freeze_epochs: expected an integer >= 0, received {freeze_epochs!r}")
        if unfreeze_every < 1:
            raise ValueError(f"unfreeze_every: expected a positive integer, received {unfreeze_every!r}")
        self.groups = groups
        self.epoch = epoch
        self.freeze_epochs = freeze_epochs
        self.unfreeze_every = unfreeze_every
        self.frozen: set[int] = set()
        self._handles = []
        for group in groups:
            for param in group:
                self._handles.append(param.register_hook(self._hook_for(param)))
        self.set_epoch(0)

    def _hook_for(self, param: nn.Parameter):
        key = id(param)

        def hook(grad: Tensor) -> Tensor:
            if self.epoch is not None:
                self.set_epoch(int(self.epoch()))
            return torch.zeros_like(grad) if key in self.frozen else grad

        return hook

    def unfrozen_groups(self, epoch: int) -> int:
        if epoch < self.freeze_epochs:
            return 0
        return min(len(self.groups), 1 + (epoch - self.freeze_epochs) // self.unfreeze_every)

    def set_epoch(self, epoch: int) -> None:
        n = self.unfrozen_groups(epoch)
        if n != getattr(self, "_unfrozen", None):
            self._unfrozen = n
            self.frozen = {id(p) for group in self.groups[n:] for p in group}

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.frozen = set()


def init_from_lm(
    path: str | Path,
    embedding: nn.Embedding,
    lstm: nn.Module,
    vocab: Vocab,
    *,
    freeze_epochs: int = 1,
    unfreeze_every: int = 1,
    epoch: Callable[[], int] | None = None,
) -> tuple[TransferReport, GradualUnfreeze]:
    """Load the LM at ``path``, copy it into (embedding, lstm), and freeze for gradual unfreezing.

    The one call a classifier makes after building its network (sizes from
    :func:`load_lm_encoder`'s ``embed_size``, ``hidden_size``, ``num_layers``):
    ``report, unfreezer = init_from_lm(dir, net.embed, net.lstm, vocab,
    epoch=lambda: module.current_epoch)``; ``unfreezer.remove()`` after training.
    """
    pretrained = load_lm_encoder(path)
    sizes = (embedding.weight.shape[1], getattr(lstm, "hidden_size", None), getattr(lstm, "num_layers", None))
    expected = (pretrained.embed_size, pretrained.hidden_size, pretrained.num_layers)
    if sizes != expected:
        raise ValueError(
            f"encoder {path}: expected (embed, hidden, layers) = {expected} as in the language model, "
            f"received {sizes}; build the encoder with the model's sizes"
        )
    report = apply_lm_encoder(pretrained, embedding, lstm, vocab)
    unfreezer = GradualUnfreeze(layer_groups(embedding, lstm), freeze_epochs, unfreeze_every, epoch=epoch)
    return report, unfreezer
