"""Instances of a same-colour object set: one piece of a mask chosen by size or position.

A colour detector gives every circle of one colour as one mask; ``largest``, ``smallest`` and
``nth`` keep one 8-connected component of it (the mask thresholded at 0.5, labelled per frame
by ``scipy.ndimage.label``; pieces under ``PIECE_AREA`` of the frame are specks, no instance).
The choice is exact and carries no gradient; the result is the
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


#: A piece covering less of the frame is a speck (codec noise, a stray fringe pixel), no
#: instance: in frame units like every size, so a 1-px object of a 32-px frame still counts
#: and a 20-px blotch of a 1024-px frame does not.
PIECE_AREA = 2e-5


def pieces(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A binary frame ``(H, W)``'s instances: its labels (``scipy.ndimage.label``, 8-connected)
    and, per piece covering at least ``PIECE_AREA`` of the frame (1 px at least), in label
    order, its label, centroid ``(x, y)`` in normalized units and pixel count. Shared by the selectors and by tracks."""
    from scipy.ndimage import label

    h, w = frame.shape
    labels, n = label(frame, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return labels, np.zeros(0, dtype=int), np.zeros((0, 2)), np.zeros(0)
    flat = labels.ravel()
    sizes = np.bincount(flat, minlength=n + 1)[1:]
    cols = np.broadcast_to((np.arange(w) + 0.5) / w, (h, w)).ravel()
    rows = np.broadcast_to(((np.arange(h) + 0.5) / h)[:, None], (h, w)).ravel()
    xs = np.bincount(flat, weights=cols, minlength=n + 1)[1:] / np.maximum(sizes, 1)
    ys = np.bincount(flat, weights=rows, minlength=n + 1)[1:] / np.maximum(sizes, 1)
    keep = np.nonzero(sizes >= max(1.0, PIECE_AREA * h * w))[0]
    return labels, keep + 1, np.stack([xs[keep], ys[keep]], 1), sizes[keep].astype(float)


def _select(o: Tensor, choose) -> Tensor:
    """``o`` kept on one piece per frame: ``choose(sizes, xs, ys)`` gives the piece's index or -1."""
    b, t, h, w = o.shape
    binary = (o.detach() > 0.5).cpu().numpy()
    keep = np.zeros((b, t, h, w), dtype=bool)
    for i in range(b):
        for j in range(t):
            labels, ids, centroids, sizes = pieces(binary[i, j])
            if len(ids) == 0:
                continue
            k = choose(sizes, centroids[:, 0], centroids[:, 1])
            if k >= 0:
                keep[i, j] = labels == ids[k]
    return o * torch.from_numpy(keep).to(device=o.device, dtype=o.dtype)


def largest(sem: Semantics, o: Tensor) -> Tensor:
    """The piece with the most pixels (a tie: the first in raster order)."""
    return _select(o, lambda sizes, xs, ys: int(np.argmax(sizes)))


def smallest(sem: Semantics, o: Tensor) -> Tensor:
    """The piece with the fewest pixels (a tie: the first in raster order)."""
    return _select(o, lambda sizes, xs, ys: int(np.argmin(sizes)))


def check_order(name: str, k: int, by: str) -> None:
    """The arguments of ``nth`` and ``track``: ``k`` counts from 1, ``by`` is one of ``ORDER_KEYS``."""
    if by not in ORDER_KEYS:
        raise ValueError(f"{name}(by=...) must be one of {', '.join(ORDER_KEYS)}, got {by!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"{name}(k) counts from 1, got {k!r}")


def order(sizes: np.ndarray, xs: np.ndarray, ys: np.ndarray, by: str) -> np.ndarray:
    """Piece indices in ascending order of ``by`` (ties in raster order): ``nth``'s and ``track``'s order."""
    return np.argsort({"x": xs, "y": ys, "area": sizes}[by], kind="stable")


def nth(sem: Semantics, o: Tensor, k: int, by: str = "x") -> Tensor:
    """The k-th piece (1 = first) in ascending order of ``by`` (``x``: left to right, ``y``: top to
    bottom, ``area``: small to large; ties in raster order); empty when there are fewer than k."""
    check_order("nth", k, by)

    def choose(sizes, xs, ys):
        ranked = order(sizes, xs, ys, by)
        return int(ranked[k - 1]) if k <= len(ranked) else -1

    return _select(o, choose)
