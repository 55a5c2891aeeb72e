"""Next-frame metrics, the two baselines, and the prediction strip.

* ``mse_per_frame``: squared error summed over a frame's pixels (and
  channels), averaged over frames and clips: the Moving-MNIST convention
  (Srivastava et al. 2015; OpenSTL's "MSE"), so numbers compare with the
  literature's for the same frame size; ``mse_per_pixel`` is the same divided
  by the pixel count. ``mse_by_step`` lists the per-frame MSE for each future step.
* ``ssim``: mean structural similarity (Wang et al. 2004) per frame, scikit-image's
  ``structural_similarity`` with ``data_range=1`` (channels averaged).
* Baselines, from the context alone: ``copy_last`` repeats the last frame;
  ``linear`` extrapolates the last two frames pixel-wise,
  ``x̂_{T+k} = clip(x_T + k (x_T - x_{T-1}), 0, 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NEXTFRAME_BASELINES = ("copy_last", "linear")


def copy_last(context: np.ndarray, steps: int) -> np.ndarray:
    """(N, T, C, H, W) -> (N, steps, C, H, W): the last frame, repeated."""
    return np.repeat(context[:, -1:], steps, axis=1)


def linear_extrapolation(context: np.ndarray, steps: int) -> np.ndarray:
    """Pixel-wise linear extrapolation of the last two frames, clipped to [0, 1]."""
    last, diff = context[:, -1:], context[:, -1:] - context[:, -2:-1]
    k = np.arange(1, steps + 1, dtype=context.dtype).reshape(1, steps, 1, 1, 1)
    return np.clip(last + k * diff, 0.0, 1.0)


def baseline_forecast(name: str, context: np.ndarray, steps: int) -> np.ndarray:
    if name == "copy_last":
        return copy_last(context, steps)
    if name == "linear":
        return linear_extrapolation(context, steps)
    raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(NEXTFRAME_BASELINES)}")


def ssim_frames(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """SSIM of each frame pair: (N, T, C, H, W) twice -> (N, T)."""
    from skimage.metrics import structural_similarity

    n, t, c, h, w = truth.shape
    win = min(7, h, w)
    win -= 1 - win % 2  # odd
    out = np.zeros((n, t))
    for i in range(n):
        for j in range(t):
            vals = [structural_similarity(truth[i, j, k], pred[i, j, k], data_range=1.0, win_size=win)
                    if win >= 3 else float(np.mean(truth[i, j, k] == pred[i, j, k])) for k in range(c)]
            out[i, j] = float(np.mean(vals))
    return out


def nextframe_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """The metrics of the module docstring for predictions and truth (N, T, C, H, W)."""
    se = ((pred.astype(np.float64) - truth) ** 2).sum(axis=(2, 3, 4))    # (N, T)
    pixels = int(np.prod(truth.shape[3:]))
    ssim = ssim_frames(pred, truth)
    return {"mse_per_frame": float(se.mean()), "mse_per_pixel": float(se.mean() / pixels),
            "ssim": float(ssim.mean()), "mse_by_step": [float(v) for v in se.mean(0)],
            "ssim_by_step": [float(v) for v in ssim.mean(0)], "clips": int(len(truth))}


def prediction_strip(context: np.ndarray, truth: np.ndarray | None, rows: dict[str, np.ndarray],
                     path: Any, every: int = 1) -> None:
    """Write a PNG: the context, then the truth and each row's predicted frames, of one clip (T, C, H, W)."""
    from matplotlib.figure import Figure  # no pyplot: the user's plotting backend is left alone

    def show(frame: np.ndarray) -> np.ndarray:
        return frame[0] if frame.shape[0] == 1 else np.moveaxis(frame[:3], 0, -1)

    lines = [("input", context[::every])]
    if truth is not None:
        lines.append(("truth", truth[::every]))
    lines += [(name, frames[::every]) for name, frames in rows.items()]
    cols = max(len(f) for _, f in lines)
    fig = Figure(figsize=(cols * 0.9, len(lines) * 1.0))
    axes = fig.subplots(len(lines), cols, squeeze=False)
    for r, (name, frames) in enumerate(lines):
        for c in range(cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if c < len(frames):
                ax.imshow(show(frames[c]), cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    fig.savefig(path, dpi=100, bbox_inches="tight")
