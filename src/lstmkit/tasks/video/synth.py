"""Deterministic, seeded video generators built from real Fashion-MNIST images (no data in the repo).

* :func:`moving_objects`: Moving-MNIST-style clips (Srivastava et al. 2015):
  ``objects`` 28×28 images on a ``size``×``size`` black canvas, each moving
  in a straight line at a random speed and direction and bouncing off the
  borders; overlaps take the brighter pixel.
* :func:`action_clips`: one object per clip doing one of :data:`ACTIONS`;
  the class is the motion, not the object (every class draws from the same
  images), so a model must read the frames in order.

Images come from the Debian package ``dataset-fashion-mnist`` (idx files,
read with gzip + numpy: :func:`load_fashion_mnist`); ``split="train"`` draws
from the 60k training images, ``"test"`` from the 10k test images, so
generated training and test clips never share an image. Frames are float32
in [0, 1], shape ``(N, T, 1, H, W)``.
"""

from __future__ import annotations

import gzip
import os
from functools import cache
from pathlib import Path

import numpy as np

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ACTIONS = ("left", "right", "up", "down", "bounce", "zoom_in", "zoom_out", "rotate_cw", "rotate_ccw")


def fashion_dir() -> Path:
    """Where the idx files are (``LSTMKIT_FASHION_MNIST`` overrides the Debian path)."""
    return Path(os.environ.get("LSTMKIT_FASHION_MNIST", FASHION_DIR))


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    magic = int.from_bytes(raw[:4], "big")
    if magic >> 8 != 0x08:  # 0x08: unsigned byte data
        raise ValueError(f"{path}: not an idx file of unsigned bytes (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, found {data.size} values")
    return data.reshape(dims)


@cache
def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 28, 28) uint8, labels (N,) uint8)`` of the train (60k) or test (10k) split."""
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    root = fashion_dir()
    images, labels = root / f"{prefix}-images-idx3-ubyte.gz", root / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.is_file():
        raise ValueError(f"Fashion-MNIST not found at {root} (apt-get install dataset-fashion-mnist, "
                         "or set LSTMKIT_FASHION_MNIST to a folder of the idx .gz files)")
    return _read_idx(images), _read_idx(labels)


def _paste_max(canvas: np.ndarray, img: np.ndarray, top: int, left: int) -> None:
    """canvas[top:top+h, left:left+w] = max(canvas, img), clipped to the canvas."""
    h, w = img.shape
    size_y, size_x = canvas.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, size_y), min(left + w, size_x)
    if y1 <= y0 or x1 <= x0:
        return
    region = img[y0 - top: y1 - top, x0 - left: x1 - left]
    np.maximum(canvas[y0:y1, x0:x1], region, out=canvas[y0:y1, x0:x1])


def moving_objects(n: int, frames: int = 20, size: int = 64, objects: int = 2, seed: int = 0,
                   split: str = "train", speed: tuple[float, float] | None = None,
                   object_size: int | None = None) -> np.ndarray:
    """``n`` bouncing-object clips ``(n, frames, 1, size, size)`` float32 (see the module docstring).

    Each object starts at a uniform position, moves ``speed`` pixels per frame
    (uniform in the range; default ``(2, 4) · size / 64``) in a uniform
    direction and reflects off the borders. ``object_size``: 28, 14 or 7
    (the images averaged over 1, 2 or 4 pixel blocks; default 28 on canvases
    of 56 pixels or more, else 14). The same ``seed`` and ``split`` give the
    same clips.
    """
    images, _ = load_fashion_mnist(split)
    obj = object_size or (28 if size >= 56 else 14)
    if obj not in (28, 14, 7):
        raise ValueError(f"object_size: expected 28, 14 or 7, got {object_size}")
    if size < obj:
        raise ValueError(f"size: {obj}x{obj} objects need a canvas of at least {obj} pixels, got {size}")
    speed = speed or (2.0 * size / 64, 4.0 * size / 64)
    block = 28 // obj
    rng = np.random.default_rng(seed)
    span = size - obj
    out = np.zeros((n, frames, 1, size, size), dtype=np.float32)
    for i in range(n):
        picks = rng.integers(0, len(images), objects)
        pos = rng.uniform(0, span, (objects, 2))
        angle = rng.uniform(0, 2 * np.pi, objects)
        vel = rng.uniform(*speed, objects)[:, None] * np.stack([np.sin(angle), np.cos(angle)], 1)
        for t in range(frames):
            canvas = np.zeros((size, size), dtype=np.float32)
            for k in range(objects):
                img = images[picks[k]].astype(np.float32) / 255.0
                if block > 1:
                    img = img.reshape(obj, block, obj, block).mean(axis=(1, 3))
                _paste_max(canvas, img, int(round(pos[k, 0])), int(round(pos[k, 1])))
            out[i, t, 0] = canvas
            pos += vel
            for axis in range(2):  # reflect off the borders
                low, high = pos[:, axis] < 0, pos[:, axis] > span
                pos[low, axis] = -pos[low, axis]
                pos[high, axis] = 2 * span - pos[high, axis]
                vel[low | high, axis] *= -1
    return out


def _warp(img: np.ndarray, size: int, cy: float, cx: float, scale: float, angle: float) -> np.ndarray:
    """The image drawn centred at (cy, cx) on a size×size canvas, scaled and rotated (bilinear)."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    cos, sin = np.cos(angle), np.sin(angle)
    dy, dx = ys - cy, xs - cx
    # inverse map: canvas -> source image coordinates
    sy = (cos * dy - sin * dx) / scale + 13.5
    sx = (sin * dy + cos * dx) / scale + 13.5
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    wy, wx = sy - y0, sx - x0
    pad = np.pad(img, 1)  # reads outside the image are 0

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        inside = (yy >= -1) & (yy <= 28) & (xx >= -1) & (xx <= 28)
        return np.where(inside, pad[np.clip(yy + 1, 0, 29), np.clip(xx + 1, 0, 29)], 0.0)

    return ((1 - wy) * (1 - wx) * at(y0, x0) + (1 - wy) * wx * at(y0, x0 + 1)
            + wy * (1 - wx) * at(y0 + 1, x0) + wy * wx * at(y0 + 1, x0 + 1)).astype(np.float32)


def action_clips(n: int, frames: int = 12, size: int = 32, seed: int = 0, split: str = "train",
                 actions: tuple[str, ...] = ACTIONS) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clips ``(n, frames, 1, size, size)`` and their action names ``(n,)`` (balanced, shuffled).

    Objects are drawn at scale ``size / 48`` so that a 28-pixel image fits with
    room to move; moves cover about half the canvas over the clip, zooms go
    between 0.6× and 1.4× that scale, rotations turn a half turn.
    """
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise ValueError(f"actions: unknown {unknown}; known: {list(ACTIONS)}")
    images, _ = load_fashion_mnist(split)
    rng = np.random.default_rng(seed)
    labels = np.array([actions[k % len(actions)] for k in range(n)])
    labels = labels[rng.permutation(n)]
    base = size / 48.0
    out = np.zeros((n, frames, 1, size, size), dtype=np.float32)
    s = np.linspace(0.0, 1.0, frames)
    for i, action in enumerate(labels):
        img = images[rng.integers(0, len(images))].astype(np.float32) / 255.0
        c = size / 2 + rng.uniform(-size / 16, size / 16, 2)
        travel = size * rng.uniform(0.35, 0.5)
        speed_jitter = rng.uniform(0.8, 1.2)
        cy = np.full(frames, c[0])
        cx = np.full(frames, c[1])
        scale = np.full(frames, base)
        angle = np.zeros(frames) + rng.uniform(-0.2, 0.2)
        path = (s - 0.5) * travel * speed_jitter
        if action == "left":
            cx = c[1] - path
        elif action == "right":
            cx = c[1] + path
        elif action == "up":
            cy = c[0] - path
        elif action == "down":
            cy = c[0] + path
        elif action == "bounce":  # down to the floor and back up
            cy = c[0] - travel / 2 + travel * (1 - np.abs(2 * s - 1)) * speed_jitter * 0.8
        elif action == "zoom_in":
            scale = base * (0.6 + 0.8 * s)
        elif action == "zoom_out":
            scale = base * (1.4 - 0.8 * s)
        elif action == "rotate_cw":
            angle = angle + np.pi * s * speed_jitter
        elif action == "rotate_ccw":
            angle = angle - np.pi * s * speed_jitter
        for t in range(frames):
            out[i, t, 0] = _warp(img, size, cy[t], cx[t], scale[t], angle[t])
    return np.clip(out, 0.0, 1.0), labels
