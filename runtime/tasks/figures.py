"""Pictures of instances and videos for the docs and for looking at samples (numpy only)."""

from __future__ import annotations

import numpy as np

GAP_COLOUR = (200, 200, 200)


def upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so each pixel stays one flat colour."""
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def hstack(images: list[np.ndarray], gap: int) -> np.ndarray:
    h = max(i.shape[0] for i in images)
    parts = []
    for k, img in enumerate(images):
        if k:
            parts.append(np.full((h, gap, 3), GAP_COLOUR, dtype=np.uint8))
        pad = np.full((h - img.shape[0], img.shape[1], 3), GAP_COLOUR, dtype=np.uint8)
        parts.append(np.concatenate([img, pad], axis=0))
    return np.concatenate(parts, axis=1)


def filmstrip(video: np.ndarray, scale: int = 4, every: int = 1, gap: int = 2) -> np.ndarray:
    """Frames side by side (every ``every``-th frame, always including the last)."""
    idx = list(range(0, len(video), every))
    if idx[-1] != len(video) - 1:
        idx.append(len(video) - 1)
    return hstack([upscale(video[i], scale) for i in idx], gap)


def first_and_last(video: np.ndarray, scale: int = 8, gap: int = 6) -> np.ndarray:
    """The first and the last frame, large."""
    return hstack([upscale(video[0], scale), upscale(video[-1], scale)], gap)


def sheet(video: np.ndarray) -> np.ndarray:
    """First and last frame on top, a filmstrip of every other frame below."""
    top, strip = first_and_last(video), filmstrip(video, scale=4, every=2)
    width = max(top.shape[1], strip.shape[1])
    rows = []
    for img in (top, strip):
        pad = np.full((img.shape[0], width - img.shape[1], 3), GAP_COLOUR, dtype=np.uint8)
        rows.append(np.concatenate([img, pad], axis=1))
    return np.concatenate([rows[0], np.full((6, width, 3), GAP_COLOUR, dtype=np.uint8), rows[1]], axis=0)
