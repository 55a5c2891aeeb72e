"""Reading clips: arrays, ``.npy`` / ``.npz`` files, folders of frames, and the built-in generators.

:func:`read_clips` accepts

* an array ``(N, T, H, W)`` (one channel), ``(N, T, C, H, W)`` with C in
  1..4, or ``(N, T, H, W, C)`` with C in 1..4 (channels last); uint8 values
  are divided by 255, floats are kept (they should lie in [0, 1]);
  ``time_first=True`` reads ``(T, N, ...)``, the layout of the public
  ``mnist_test_seq.npy``;
* a pair ``(clips, labels)`` or a list of equal-shaped clip arrays;
* a path to ``.npy`` (the array) or ``.npz`` (key ``clips`` or ``x``, and
  ``labels`` or ``y`` if labelled);
* a folder of clip folders, each holding its frames as image files (sorted
  by name; PNG/JPEG/BMP read with matplotlib), or a folder of class folders of
  clip folders (the class is the folder name);
* a generator spec: ``"moving:N"`` (bouncing Fashion-MNIST objects, 64×64,
  20 frames; ``moving:N:SIZE:FRAMES`` for another canvas, with 14-pixel
  objects below 56 pixels) or ``"actions:N"``
  (labelled action clips, 32×32, 12 frames; ``actions:N:SIZE:FRAMES``);
  ``:test`` at the end draws from the test images (e.g. ``moving:100:test``).

Every clip must have the same frame count, channels and frame size; user
errors are one-line ``ValueError`` s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


@dataclass
class Clips:
    """Clips ``(N, T, C, H, W)`` float32 in [0, 1], names ``(N,)`` and labels (or None)."""

    frames: np.ndarray
    names: list[str]
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)


def _as_clips(arr: Any, what: str, time_first: bool = False) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype == object:
        raise ValueError(f"{what}: clips of different shapes (frame count, channels or frame size); "
                         "every clip must have the same shape")
    if a.ndim not in (4, 5):
        raise ValueError(f"{what}: expected clips (N, T, H, W), (N, T, C, H, W) or (N, T, H, W, C), "
                         f"got a {a.ndim}-D array of shape {a.shape}")
    if time_first:
        a = np.swapaxes(a, 0, 1)
    if a.ndim == 4:
        a = a[:, :, None]
    elif not 1 <= a.shape[2] <= 4:
        if 1 <= a.shape[-1] <= 4:
            a = np.moveaxis(a, -1, 2)
        else:
            raise ValueError(f"{what}: cannot find the channel axis (1 to 4 channels at axis 2 or last) "
                             f"in shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0 or a.shape[3] == 0 or a.shape[4] == 0:
        raise ValueError(f"{what}: empty clips (shape (N, T, C, H, W) = {a.shape})")
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating):
        a = a.astype(np.float32)
    else:
        raise ValueError(f"{what}: expected numeric pixel values, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: pixel values must be finite (found NaN or inf)")
    return a


def _read_image(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    img = np.asarray(mpimg.imread(path))
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    if img.ndim == 3 and img.shape[-1] == 4:
        img = img[..., :3]  # drop alpha
    if img.ndim == 3 and np.allclose(img[..., 0], img[..., 1]) and np.allclose(img[..., 0], img[..., 2]):
        img = img[..., 0]  # grey stored as RGB
    return img.astype(np.float32)


def _frames_folder(folder: Path, what: str) -> np.ndarray:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{what}: clip folder {folder} has no frame images ({', '.join(IMAGE_SUFFIXES)})")
    frames = [_read_image(p) for p in files]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"{what}: frames in {folder} differ in size: {sorted(shapes)}")
    clip = np.stack(frames)
    return clip[:, None] if clip.ndim == 3 else np.moveaxis(clip, -1, 1)


def _read_folder(root: Path, what: str) -> Clips:
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not subdirs:
        raise ValueError(f"{what}: folder {root} holds no clip folders")
    nested = all(any(q.is_dir() for q in d.iterdir()) for d in subdirs)
    clips, names, labels = [], [], []
    for d in subdirs:
        inner = sorted(q for q in d.iterdir() if q.is_dir()) if nested else [d]
        for clip_dir in inner:
            clips.append(_frames_folder(clip_dir, what))
            names.append(f"{d.name}/{clip_dir.name}" if nested else d.name)
            labels.append(d.name)
    shapes = {c.shape for c in clips}
    if len(shapes) > 1:
        raise ValueError(f"{what}: clips differ in shape (T, C, H, W): {sorted(shapes)[:3]}; "
                         "every clip needs the same frame count and frame size")
    return Clips(np.stack(clips).astype(np.float32), names, np.array(labels) if nested else None)


def _generated(spec: str, what: str) -> Clips:
    from lstmkit.tasks.video.synth import action_clips, moving_objects

    parts = spec.split(":")
    split = "train"
    if parts[-1] in ("train", "test"):
        split = parts.pop()
    kind, numbers = parts[0], parts[1:]
    try:
        values = [int(v) for v in numbers]
    except ValueError:
        raise ValueError(f"{what}: bad generator spec {spec!r} (e.g. moving:200, actions:300:32:12:test)") from None
    if not values or values[0] < 1:
        raise ValueError(f"{what}: {spec!r} needs a clip count >= 1 (e.g. {kind}:200)")
    seed = 0 if split == "train" else 1
    if kind == "moving":
        frames = moving_objects(values[0], size=values[1] if len(values) > 1 else 64,
                                frames=values[2] if len(values) > 2 else 20, seed=seed, split=split)
        return Clips(frames, [f"clip{i}" for i in range(len(frames))])
    frames, labels = action_clips(values[0], size=values[1] if len(values) > 1 else 32,
                                  frames=values[2] if len(values) > 2 else 12, seed=seed, split=split)
    return Clips(frames, [f"clip{i}" for i in range(len(frames))], labels)


def read_clips(data: Any, what: str = "data", time_first: bool = False) -> Clips:
    """Any input listed in the module docstring -> :class:`Clips`."""
    if isinstance(data, Clips):
        return data
    labels = None
    if isinstance(data, tuple) and len(data) == 2:
        data, labels = data
    if isinstance(data, str) and data.split(":")[0] in ("moving", "actions") and not Path(data).exists():
        clips = _generated(data, what)
    elif isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_dir():
            clips = _read_folder(path, what)
        elif not path.is_file():
            raise ValueError(f"{what}: {path} does not exist (a .npy / .npz file, a folder of frame "
                             "folders, or moving:N / actions:N)")
        elif path.suffix == ".npy":
            arr = _as_clips(np.load(path, allow_pickle=False), what, time_first)
            clips = Clips(arr, [f"clip{i}" for i in range(len(arr))])
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                key = next((k for k in ("clips", "x", "X") if k in z), None)
                if key is None:
                    raise ValueError(f"{what}: {path} has no 'clips' (or 'x') array; keys: {sorted(z)}")
                arr = _as_clips(z[key], what, time_first)
                lab = next((z[k] for k in ("labels", "y") if k in z), None)
            clips = Clips(arr, [f"clip{i}" for i in range(len(arr))], lab)
        else:
            raise ValueError(f"{what}: {path.name}: expected a .npy or .npz file or a folder")
    else:
        if isinstance(data, list):
            shapes = {np.shape(c) for c in data}
            if len(shapes) > 1:
                raise ValueError(f"{what}: clips differ in shape: {sorted(shapes)[:3]}; every clip must "
                                 "have the same frame count, channels and frame size")
        arr = _as_clips(data, what, time_first)
        clips = Clips(arr, [f"clip{i}" for i in range(len(arr))])
    if labels is not None:
        clips.labels = np.asarray(labels)
    if clips.labels is not None:
        clips.labels = np.asarray([str(v) for v in clips.labels])
        if len(clips.labels) != len(clips):
            raise ValueError(f"{what}: {len(clips.labels)} labels for {len(clips)} clips")
    return clips
