"""The two LSTM anomaly detectors' networks.

Prediction (Hundman et al. 2018): from the last L standardised values predict the next,

    h_L = LSTM(x_{t-L} .. x_{t-1}),   x_hat_t = w^T h_L + b,   error e_t = |x_t - x_hat_t|,

trained with the mean squared error on normal data.

Reconstruction (Malhotra et al. 2016, EncDec-AD): an encoder LSTM reads the window
x_1..x_L; its final state (h_E, c_E) starts a decoder LSTM that reconstructs the window
in reverse order:

    x'_L = w^T h_E + b
    (h_D, c_D) <- LSTM_D(input_i, (h_D, c_D)),  x'_{i-1} = w^T h_D + b,   i = L .. 2

with input_i = x_i while training (teacher forcing) and input_i = x'_i at inference.
Trained with the mean squared reconstruction error on normal windows.
"""

from __future__ import annotations

import torch
from torch import nn

import lstmkit
from lstmkit.train import TaskModule, TrainConfig


class PredictorNet(nn.Module):
    """One-step-ahead LSTM predictor: (B, L, C) -> (B, C)."""

    def __init__(self, channels: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.lstm = lstmkit.LSTM(channels, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)                   # h_n: (layers, B, Hd)
        return self.out(h_n[-1])                     # (B, C)


class EncDecNet(nn.Module):
    """LSTM encoder-decoder reconstructing a window in reverse order: (B, L, C) -> (B, L, C)."""

    def __init__(self, channels: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.encoder = lstmkit.LSTM(channels, hidden_size, num_layers=num_layers, batch_first=True)
        self.decoder = lstmkit.LSTM(channels, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, channels)

    def forward(self, x: torch.Tensor, teacher_forcing: bool = True) -> torch.Tensor:
        _, state = self.encoder(x)                                   # (layers, B, Hd) x 2
        last = self.out(state[0][-1])                                # x'_L: (B, C)
        if teacher_forcing:
            inputs = x.flip(1)[:, :-1]                               # x_L .. x_2: (B, L-1, C)
            hidden, _ = self.decoder(inputs, state)                  # (B, L-1, Hd)
            rest = self.out(hidden)                                  # x'_{L-1} .. x'_1: (B, L-1, C)
            recon_rev = torch.cat([last.unsqueeze(1), rest], dim=1)  # x'_L .. x'_1: (B, L, C)
        else:
            outputs, current = [last], last
            for _ in range(x.shape[1] - 1):
                hidden, state = self.decoder(current.unsqueeze(1), state)   # (B, 1, Hd)
                current = self.out(hidden[:, 0])                             # (B, C)
                outputs.append(current)
            recon_rev = torch.stack(outputs, dim=1)                  # (B, L, C)
        return recon_rev.flip(1)                                     # x'_1 .. x'_L


class PredictorModule(TaskModule):
    """Batches (window (B, L, C), next value (B, C)); loss: mean squared error."""

    def __init__(self, net: PredictorNet, train_config: TrainConfig) -> None:
        super().__init__(train_config)
        self.net = net

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.net(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(x))
        return loss


class EncDecModule(TaskModule):
    """Batches (window (B, L, C),); loss: mean squared reconstruction error (teacher forcing)."""

    def __init__(self, net: EncDecNet, train_config: TrainConfig) -> None:
        super().__init__(train_config)
        self.net = net

    def training_step(self, batch, batch_idx):
        (x,) = batch
        return nn.functional.mse_loss(self.net(x, teacher_forcing=True), x)

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        loss = nn.functional.mse_loss(self.net(x, teacher_forcing=False), x)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(x))
        return loss
