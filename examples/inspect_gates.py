"""Watch an LSTM learn to count: bracket depth, read off one cell unit.

A sequence of '(' and ')' (always balanced so far) is read one symbol at a
time; the target at each step is the current nesting depth. After a short
training run, the cell unit best correlated with depth is plotted with the
gates that drive it. Writes gates.png and saturation.png into the output
folder (default: runs/inspect).

Run: python examples/inspect_gates.py [--steps 300] [--out runs/inspect]
"""

import argparse

import torch
from tqdm import trange

import lstmkit
from lstmkit.inspect import plot_gates, plot_saturation, trace


def brackets(batch: int, steps: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, 2) one-hot '(' / ')' and (B, T, 1) depth after each symbol."""
    x = torch.zeros(batch, steps, 2)
    depth = torch.zeros(batch, steps, 1)
    d = torch.zeros(batch)
    for t in range(steps):
        opening = (torch.rand(batch, generator=gen) < 0.55) | (d == 0)
        d = d + torch.where(opening, 1.0, -1.0)
        x[:, t, 0], x[:, t, 1] = opening.float(), (~opening).float()
        depth[:, t, 0] = d
    return x, depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="runs/inspect")
    args = parser.parse_args()
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    lstm = lstmkit.LSTM(2, 16, batch_first=True)
    head = torch.nn.Linear(16, 1)
    opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-2)
    for _ in (bar := trange(args.steps, desc="training")):
        x, y = brackets(32, 40, gen)
        loss = torch.nn.functional.mse_loss(head(lstm(x)[0]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.set_postfix(mse=f"{loss.item():.3f}")
    x, y = brackets(1, 40, gen)
    tr = trace(lstm, x)["l0"]
    c = tr.values["c"]  # (T, H)
    depth = y[0, :, 0]
    corr = torch.stack([torch.corrcoef(torch.stack([c[:, k], depth]))[0, 1] for k in range(16)])
    unit = int(corr.abs().argmax())
    print(f"cell unit {unit} tracks depth with correlation {corr[unit]:+.3f}")
    tokens = ["(" if v > 0 else ")" for v in x[0, :, 0]]
    plot_gates(tr, f"{args.out}/gates.png", units=[unit], tokens=tokens,
               title=f"unit {unit}: the depth counter")
    plot_saturation(tr, f"{args.out}/saturation.png")
    print("wrote", f"{args.out}/gates.png", f"{args.out}/saturation.png")


if __name__ == "__main__":
    main()
