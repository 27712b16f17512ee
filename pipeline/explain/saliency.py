"""Saliency pictures for image models: per row, one PNG with the input image beside its attribution heatmap.

The heatmap is |integrated-gradients attribution| per pixel (the same attributions `tfx-e2e explain` sums per
column), scaled so the row's largest is full red. The input is drawn from the transformed pixels, min-max scaled:
the z-score is one affine map for the whole column, so this is the raw picture. Both are upscaled SCALE times
(nearest neighbour). PNGs are encoded with TensorFlow (tf.io.encode_png): no image library needed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.config.schema import ConfigError

SCALE = 16  # an 8×8 digit becomes 128×128
GAP = 8  # white pixels between the two panels


def image_column(explanations) -> Optional[str]:
    """The vector column drawn (the one with the most elements), when its size is a square; else None."""
    sizes = {c: len(a) for c, a in explanations.rows[0].elements.items()} if explanations.rows else {}
    if not sizes:
        return None
    column = max(sorted(sizes), key=lambda c: sizes[c])
    side = math.isqrt(sizes[column])
    return column if side * side == sizes[column] else None


def require_image(explanations) -> str:
    column = image_column(explanations)
    if column is None:
        raise ConfigError(
            f"--saliency-out: {explanations.model_dir} reads no image (no numeric vector column whose size is a "
            "square, such as digits' 64 pixels); saliency pictures are for image models: drop --saliency-out"
        )
    return column


def _panel(values: np.ndarray, side: int) -> np.ndarray:
    """[side·SCALE, side·SCALE] floats in [0, 1] from `values` min-max scaled."""
    low, high = float(np.min(values)), float(np.max(values))
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return np.kron(scaled.reshape(side, side), np.ones((SCALE, SCALE)))


def picture(image: np.ndarray, attribution: np.ndarray) -> np.ndarray:
    """[H, 2W + GAP, 3] uint8: the image in grey, a gap, the |attribution| heatmap from white (0) to red (max)."""
    side = math.isqrt(image.size)
    grey = _panel(image, side)
    heat = np.abs(attribution)
    heat = np.kron((heat / heat.max() if heat.max() > 0 else heat).reshape(side, side), np.ones((SCALE, SCALE)))
    left = np.stack([grey] * 3, axis=-1)
    right = np.stack([np.ones_like(heat), 1.0 - heat, 1.0 - heat], axis=-1)
    gap = np.ones((grey.shape[0], GAP, 3))
    return np.round(np.concatenate([left, gap, right], axis=1) * 255).astype(np.uint8)


def write(explanations, out_dir: Path) -> list[Path]:
    """One PNG per row, `row-<n>.png`, into out_dir (created); the files written."""
    import tensorflow as tf

    column = require_image(explanations)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--saliency-out {out_dir}: cannot create it ({err.strerror}); pass another "
                          "directory") from None
    written = []
    for row in explanations.rows:
        path = out_dir / f"row-{row.row:04d}.png"
        png = tf.io.encode_png(picture(row.transformed[column], row.elements[column])).numpy()
        path.write_bytes(png)
        written.append(path)
    return written
