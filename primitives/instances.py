"""Instances of a same-colour object set: one piece of a mask chosen by size or position.

A colour detector gives every circle of one colour as one mask; ``largest``, ``smallest`` and
``nth`` keep one 8-connected component of it (the mask thresholded at 0.5, labelled per frame
by ``scipy.ndimage.label``). The choice is exact and carries no gradient; the result is the
soft mask itself on the chosen component's pixels (0 elsewhere), so in smooth semantics the
gradient flows through the chosen instance's pixels. An empty mask (or ``nth`` past the
number of pieces) gives an empty mask.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rulec.primitives.semantics import Semantics

#: ``nth(by=...)``: what the pieces are ordered by (ascending: left to right, top to bottom, small to large).
ORDER_KEYS = ("x", "y", "area")


def _select(o: Tensor, choose) -> Tensor:
    """``o`` kept on one labelled piece per frame: ``choose(sizes, xs, ys)`` gives the piece's index or -1."""
    from scipy.ndimage import label

    b, t, h, w = o.shape
    binary = (o.detach() > 0.5).cpu().numpy()
    keep = np.zeros((b, t, h, w), dtype=bool)
    eight = np.ones((3, 3), dtype=bool)
    cols, rows = (np.arange(w) + 0.5) / w, (np.arange(h) + 0.5) / h
    for i in range(b):
        for j in range(t):
            labels, n = label(binary[i, j], structure=eight)
            if n == 0:
                continue
            flat = labels.ravel()
            sizes = np.bincount(flat, minlength=n + 1)[1:]
            xs = np.bincount(flat, weights=np.broadcast_to(cols, (h, w)).ravel(), minlength=n + 1)[1:] / sizes
            ys = np.bincount(flat, weights=np.broadcast_to(rows[:, None], (h, w)).ravel(), minlength=n + 1)[1:] / sizes
            k = choose(sizes, xs, ys)
            if k >= 0:
                keep[i, j] = labels == k + 1
    return o * torch.from_numpy(keep).to(device=o.device, dtype=o.dtype)


def largest(sem: Semantics, o: Tensor) -> Tensor:
    """The piece with the most pixels (a tie: the first in raster order)."""
    return _select(o, lambda sizes, xs, ys: int(np.argmax(sizes)))


def smallest(sem: Semantics, o: Tensor) -> Tensor:
    """The piece with the fewest pixels (a tie: the first in raster order)."""
    return _select(o, lambda sizes, xs, ys: int(np.argmin(sizes)))


def nth(sem: Semantics, o: Tensor, k: int, by: str = "x") -> Tensor:
    """The k-th piece (1 = first) in ascending order of ``by`` (``x``: left to right, ``y``: top to
    bottom, ``area``: small to large; ties in raster order); empty when there are fewer than k."""
    if by not in ORDER_KEYS:
        raise ValueError(f"nth(by=...) must be one of {', '.join(ORDER_KEYS)}, got {by!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"nth(k) counts from 1, got {k!r}")

    def choose(sizes, xs, ys):
        key = {"x": xs, "y": ys, "area": sizes}[by]
        order = np.argsort(key, kind="stable")
        return int(order[k - 1]) if k <= len(order) else -1

    return _select(o, choose)
