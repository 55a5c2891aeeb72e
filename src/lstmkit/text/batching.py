"""Batching for variable-length sequences: padding with true lengths, and length buckets.

A batch is a padded LongTensor ``(B, T)`` plus ``lengths`` ``(B,)`` with each
row's true length, so a recurrent layer can pack it and never read the pads.
:class:`BucketBatchSampler` groups sequences of similar length so that the
padding stays small: it sorts indices by length inside windows of
``batch_size * bucket_factor`` (shuffled per epoch), cuts the windows into
batches and shuffles the batch order.

Padding ratio of a batch = pads / (B * T); with buckets it is typically a few
percent instead of ~50% for random batches of skewed lengths.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

__all__ = ["pad_sequences", "BucketBatchSampler", "padding_ratio", "lengths_to_mask"]


def pad_sequences(
    seqs: Sequence[Sequence[int]], pad_id: int = 0, min_len: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack integer sequences into ``(B, T)`` with ``pad_id``; return ``(padded, lengths)``.

    ``T = max(max_len, min_len)``. Empty sequences are rejected: a recurrent
    layer cannot pack a length-0 row.
    """
    if len(seqs) == 0:
        raise ValueError("pad_sequences needs at least one sequence, got 0")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if int(lengths.min()) == 0:
        bad = int((lengths == 0).nonzero()[0])
        raise ValueError(f"sequence {bad} of the batch is empty; every sequence needs >= 1 token")
    T = max(int(lengths.max()), min_len)
    out = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out, lengths


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``(B,)`` lengths -> ``(B, T)`` bool mask, True on real positions."""
    T = int(lengths.max()) if max_len is None else max_len
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def padding_ratio(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Fraction of pad cells when each index list of ``batches`` is padded to its max length."""
    total = pads = 0
    for b in batches:
        ls = [lengths[i] for i in b]
        cells = len(ls) * max(ls)
        total += cells
        pads += cells - sum(ls)
    return pads / total if total else 0.0


class BucketBatchSampler(Sampler[list[int]]):
    """Yield index lists of similar-length sequences.

    Args:
        lengths: length of each example.
        batch_size: examples per batch (the last batch of a window may be smaller).
        shuffle: shuffle windows and batch order each epoch (seeded by
            ``seed + epoch``); without it, batches follow sorted length order.
        bucket_factor: window size in batches; 1 = no sorting beyond one batch,
            large = near-global sort.
        seed: base seed.
        drop_last: drop batches smaller than ``batch_size``.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        bucket_factor: int = 50,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if bucket_factor < 1:
            raise ValueError(f"bucket_factor must be >= 1, got {bucket_factor}")
        self.lengths = [int(n) for n in lengths]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.bucket_factor = bucket_factor
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` for the next pass (Lightning calls it before every epoch).

        It takes effect even on an iterator created earlier but not yet
        advanced: the order is drawn at the first batch (see :meth:`__iter__`).
        """
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(n, generator=g).tolist()
        else:
            order = list(range(n))
        window = self.batch_size * self.bucket_factor
        batches: list[list[int]] = []
        for start in range(0, n, window):
            chunk = sorted(order[start : start + window], key=lambda i: self.lengths[i])
            for b in range(0, len(chunk), self.batch_size):
                batch = chunk[b : b + self.batch_size]
                if self.drop_last and len(batch) < self.batch_size:
                    continue
                batches.append(batch)
        if self.shuffle:
            perm = torch.randperm(len(batches), generator=g).tolist()
            batches = [batches[i] for i in perm]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        """The batches of one pass, in the order of ``self.epoch`` read at the *first batch*.

        A generator: nothing is drawn when the iterator is created, only when
        the first batch is asked for, so a :meth:`set_epoch` between the two
        counts. Lightning creates the training iterator before an epoch's
        hooks run (after a resume, with the sampler still at epoch 0);
        :func:`lstmkit.train.fit` sets the epoch from ``trainer.current_epoch``
        at each epoch start, so a resumed fit draws the uninterrupted run's
        order. After the pass is drawn the epoch advances by one, so plain
        loops without ``set_epoch`` still see a new order each pass. (With ``num_workers > 0`` the DataLoader asks for
        batches as soon as its iterator exists: call ``set_epoch`` first.)
        """
        batches = self._batches()
        self.epoch += 1 if self.shuffle else 0
        yield from batches

    def __len__(self) -> int:
        n = len(self.lengths)
        window = self.batch_size * self.bucket_factor
        full, rest = divmod(n, window)
        if self.drop_last:
            return full * self.bucket_factor + rest // self.batch_size
        return full * self.bucket_factor + math.ceil(rest / self.batch_size)
