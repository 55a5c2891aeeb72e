"""The video networks and the Lightning module that trains them.

* :class:`EncoderForecaster` (Shi et al. 2015): an encoder ConvLSTM stack
  reads the ``input_frames`` (space-to-depth patches); a forecaster stack,
  started from the encoder's final states, is fed its own previous prediction
  (the last input frame first) and a 1×1 convolution + sigmoid turns its top
  hidden maps into the next frame, ``output_frames`` times. With
  ``residual=True`` the convolution corrects the previous frame in logit
  space, ``x̂_{t+1} = σ(logit(x̂_t) + head(h_t))`` (head initialised to zero,
  so an untrained model copies the last frame and training learns the
  motion). Training and prediction run the same way (no teacher forcing), so
  there is no gap between them.
* :class:`ConvLSTMClassifier`: a ConvLSTM stack over the clip; the top
  layer's last hidden maps, average- and max-pooled over space, go to a
  linear layer.
* :class:`LRCN` (Donahue et al. 2015): a small CNN per frame (three strided
  3×3 convolutions, global average pooling), an ``lstmkit.LSTM`` over the
  frame features, a linear layer on its final state.
* :class:`FrameAverageCNN`: the LRCN's CNN, its features averaged over the
  frames (order ignored): the baseline that cannot see motion direction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.layers.conv_recurrent import ConvLSTM
from lstmkit.layers.recurrent import LSTM
from lstmkit.train import TaskModule, TrainConfig


def to_patches(x: Tensor, p: int) -> Tensor:
    """(B, T, C, H, W) -> (B, T, C·p·p, H/p, W/p) (space-to-depth)."""
    b, t = x.shape[:2]
    return F.pixel_unshuffle(x.flatten(0, 1), p).unflatten(0, (b, t))


def from_patches(x: Tensor, p: int) -> Tensor:
    """Inverse of :func:`to_patches`."""
    b, t = x.shape[:2]
    return F.pixel_shuffle(x.flatten(0, 1), p).unflatten(0, (b, t))


class EncoderForecaster(nn.Module):
    """Next-frame prediction: ``forward(context (B, T_in, C, H, W), steps) -> (B, steps, C, H, W)`` in [0, 1]."""

    def __init__(self, channels: int, hidden_channels: int, num_layers: int, kernel_size: int, patch: int,
                 residual: bool = False) -> None:
        super().__init__()
        self.patch = patch
        self.residual = residual
        width = channels * patch * patch
        self.encoder = ConvLSTM(width, hidden_channels, kernel_size, num_layers, batch_first=True)
        self.forecaster = ConvLSTM(width, hidden_channels, kernel_size, num_layers, batch_first=True)
        self.head = nn.Conv2d(hidden_channels, width, 1)
        if residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, context: Tensor, steps: int) -> Tensor:
        x = to_patches(context, self.patch)
        _, state = self.encoder(x)
        frame = x[:, -1:]
        outs = []
        for _ in range(steps):
            top, state = self.forecaster(frame, state)
            a = self.head(top[:, 0])
            if self.residual:
                a = a + torch.logit(frame[:, 0].clamp(1e-3, 1 - 1e-3))
            frame = torch.sigmoid(a).unsqueeze(1)
            outs.append(frame)
        return from_patches(torch.cat(outs, 1), self.patch)


def _frame_cnn(channels: int, width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


class LRCN(nn.Module):
    """CNN per frame, LSTM over frames: ``forward(clips (B, T, C, H, W)) -> logits (B, K)``."""

    def __init__(self, channels: int, classes: int, cnn_channels: int, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.cnn = _frame_cnn(channels, cnn_channels)
        self.lstm = LSTM(2 * cnn_channels, hidden_size, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, clips: Tensor) -> Tensor:
        b, t = clips.shape[:2]
        feats = self.cnn(clips.flatten(0, 1)).unflatten(0, (b, t))    # (B, T, F)
        _, (h_n, _) = self.lstm(feats)
        return self.head(self.drop(h_n[-1]))


class ConvLSTMClassifier(nn.Module):
    """ConvLSTM over patches, last hidden maps pooled: ``forward(clips) -> logits (B, K)``."""

    def __init__(self, channels: int, classes: int, hidden_channels: int, num_layers: int, kernel_size: int,
                 patch: int, dropout: float) -> None:
        super().__init__()
        self.patch = patch
        self.convlstm = ConvLSTM(channels * patch * patch, hidden_channels, kernel_size, num_layers,
                                 batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden_channels, classes)

    def forward(self, clips: Tensor) -> Tensor:
        _, (h_n, _) = self.convlstm(to_patches(clips, self.patch))
        top = h_n[-1]                                                    # (B, C_h, H', W')
        pooled = torch.cat([top.mean((2, 3)), top.amax((2, 3))], 1)
        return self.head(self.drop(pooled))


class FrameAverageCNN(nn.Module):
    """The frame CNN, features averaged over frames (order-blind baseline)."""

    def __init__(self, channels: int, classes: int, cnn_channels: int) -> None:
        super().__init__()
        self.cnn = _frame_cnn(channels, cnn_channels)
        self.head = nn.Linear(2 * cnn_channels, classes)

    def forward(self, clips: Tensor) -> Tensor:
        b, t = clips.shape[:2]
        return self.head(self.cnn(clips.flatten(0, 1)).unflatten(0, (b, t)).mean(1))


class VideoModule(TaskModule):
    """Batches ``(clips,)`` (nextframe: MSE on the future frames) or ``(clips, y)`` (action: cross-entropy)."""

    def __init__(self, net: nn.Module, train_config: TrainConfig, input_frames: int = 0,
                 output_frames: int = 0) -> None:
        super().__init__(train_config)
        self.net = net
        self.input_frames, self.output_frames = input_frames, output_frames

    def _loss(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, Tensor | None]:
        if len(batch) == 1:
            clips = batch[0]
            ctx = clips[:, : self.input_frames]
            target = clips[:, self.input_frames: self.input_frames + self.output_frames]
            return F.mse_loss(self.net(ctx, self.output_frames), target), None
        clips, y = batch
        logits = self.net(clips)
        return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()

    def training_step(self, batch, batch_idx):
        return self._loss(batch)[0]

    def validation_step(self, batch, batch_idx):
        loss, acc = self._loss(batch)
        n = len(batch[0])
        self.log("val_loss", loss, prog_bar=True, batch_size=n)
        if acc is not None:
            self.log("val_acc", acc, prog_bar=True, batch_size=n)
