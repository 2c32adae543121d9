"""Measures of masks, per frame, in normalized frame units (0..1 across the frame).

Empty masks (mass below ``EMPTY_MASS`` pixels) get documented finite values: centroid
at the frame centre (0.5, 0.5), speed 0. The switch is a ``torch.where`` on a safe
denominator, so values and gradients stay finite, and a non-empty mask's centroid is
exactly its mass-weighted mean (no prior mass mixed in).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_CENTROID, EMPTY_MASS, EMPTY_PATH_DISTANCE, EXTENT_QUANTILE, NORM_EPS
from rulec.primitives.semantics import Semantics


def mass(mask: Tensor) -> Tensor:
    """Total mask mass in pixels: ``(B, T)``."""
    return mask.sum((-2, -1))


def is_empty(mask: Tensor) -> Tensor:
    return mass(mask) < EMPTY_MASS


def safe_ratio(num: Tensor, den: Tensor, when_empty: float) -> Tensor:
    """``num / den`` where ``den >= EMPTY_MASS``, else ``when_empty``; finite gradients both ways."""
    ok = den >= EMPTY_MASS
    ratio = num / torch.where(ok, den, torch.ones_like(den))
    return torch.where(ok, ratio, torch.full_like(ratio, when_empty))


def centroid(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Mass-normalized centroid ``(x, y)``, each ``(B, T)``; pixel centres at (i + 0.5) / size."""
    h, w = mask.shape[-2:]
    xs = (torch.arange(w, device=mask.device, dtype=mask.dtype) + 0.5) / w
    ys = (torch.arange(h, device=mask.device, dtype=mask.dtype) + 0.5) / h
    m = mass(mask)
    x = safe_ratio((mask.sum(-2) * xs).sum(-1), m, EMPTY_CENTROID)
    y = safe_ratio((mask.sum(-1) * ys).sum(-1), m, EMPTY_CENTROID)
    return x, y


def norm(sem: Semantics, dx: Tensor, dy: Tensor) -> Tensor:
    """Euclidean norm: exact with a zero gradient at 0, or smooth sqrt(d^2 + eps^2) - eps."""
    squared = dx.square() + dy.square()
    if sem.is_exact:
        positive = squared > 0
        return torch.where(positive, torch.where(positive, squared, torch.ones_like(squared)).sqrt(), torch.zeros_like(squared))
    return (squared + NORM_EPS**2).sqrt() - NORM_EPS


def x(sem: Semantics, o: Tensor) -> Tensor:
    return centroid(o)[0]


def y(sem: Semantics, o: Tensor) -> Tensor:
    return centroid(o)[1]


def area(sem: Semantics, o: Tensor) -> Tensor:
    """Fraction of the frame covered, in [0, 1]."""
    return o.mean((-2, -1))


def speed(sem: Semantics, o: Tensor) -> Tensor:
    """Centroid displacement from the previous frame; 0 at frame 0 and where either frame is empty."""
    cx, cy = centroid(o)
    if cx.shape[1] == 1:
        return torch.zeros_like(cx)
    step = norm(sem, cx[:, 1:] - cx[:, :-1], cy[:, 1:] - cy[:, :-1])
    empty = is_empty(o)
    step = torch.where(empty[:, 1:] | empty[:, :-1], torch.zeros_like(step), step)
    return torch.cat([torch.zeros_like(step[:, :1]), step], dim=1)


def distance(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    """Distance between the two centroids (an empty mask sits at the frame centre)."""
    ax, ay = centroid(a)
    bx, by = centroid(b)
    return norm(sem, ax - bx, ay - by)


def path_distance(sem: Semantics, o: Tensor, goal: Tensor, free: Tensor) -> Tensor:
    """Shortest way from o's pixels to the goal through free space, mass-weighted over o.

    The field (:func:`rulec.primitives.fields.path_field`) is computed without gradient on
    the thresholded goal and free masks; the gradient flows through o, so lowering the value
    moves o's mass along corridors, never through a wall. ``EMPTY_PATH_DISTANCE`` for an
    empty o or goal.
    """
    from rulec.primitives.fields import path_field, read_at

    return read_at(o, path_field(goal, free), EMPTY_PATH_DISTANCE)


def components(sem: Semantics, o: Tensor) -> Tensor:
    """Number of pieces of the mask per frame: 8-connected components of the mask thresholded at
    0.5, specks aside (:func:`rulec.primitives.instances.pieces`, the pieces ``nth`` and ``track``
    choose from), so one codec speck does not count as one more object.

    Counting is not differentiable: both semantics give the same count, without gradient
    (``scipy.ndimage.label``, one linear pass per frame).
    """
    from rulec.primitives.instances import pieces

    with torch.no_grad():
        b, t, h, w = o.shape
        frames = (o.detach() > 0.5).reshape(b * t, h, w).cpu().numpy()
        count = torch.tensor([len(pieces(f)[1]) for f in frames], device=o.device)
    return count.reshape(b, t).to(o.dtype)


def _extent(sem: Semantics, o: Tensor, axis: str, low: bool) -> Tensor:
    """Bounding-box side of a mask, normalized (pixel edges: the leftmost pixel's left edge...).

    Exact: the extreme edge of the pixels above 0.5. Smooth: a soft quantile, the position where
    the mask's mass counted from that side reaches ``EXTENT_QUANTILE`` of its total, linear within
    a pixel: on a binary mask within one pixel of the exact edge, inward; sigmoid tails far away
    weigh their mass, not their distance. Empty: ``EMPTY_CENTROID`` (finite gradients).
    """
    n = o.shape[-1] if axis == "x" else o.shape[-2]
    if sem.is_exact:
        present = (o > 0.5).any(-2 if axis == "x" else -1)  # (B, T, n)
        edges = (torch.arange(n, device=o.device, dtype=o.dtype) + (0 if low else 1)) / n
        picked = torch.where(present, edges.expand_as(present), torch.full_like(edges.expand_as(present), 2.0 if low else -1.0))
        value = picked.amin(-1) if low else picked.amax(-1)
        return torch.where(present.any(-1), value, torch.full_like(value, EMPTY_CENTROID))
    profile = (o.sum(-2) if axis == "x" else o.sum(-1)).clamp_min(0)  # mass per column or row
    if not low:
        profile = profile.flip(-1)
    total = profile.sum(-1, keepdim=True)
    ok = total[..., 0] >= EMPTY_MASS
    target = EXTENT_QUANTILE * torch.where(ok.unsqueeze(-1), total, torch.ones_like(total))
    cum = profile.cumsum(-1)
    j = (cum < target).sum(-1, keepdim=True).clamp_max(n - 1)  # the first column reaching the target
    before = torch.where(j > 0, cum.gather(-1, (j - 1).clamp_min(0)), torch.zeros_like(target))
    here = profile.gather(-1, j)
    here = torch.where(here > 0, here, torch.ones_like(here))
    value = ((j.to(o.dtype) + ((target - before) / here).clamp(0, 1)) / n)[..., 0]
    if not low:
        value = 1 - value
    return torch.where(ok, value, torch.full_like(value, EMPTY_CENTROID))


def left_edge(sem: Semantics, o: Tensor) -> Tensor:
    return _extent(sem, o, "x", True)


def right_edge(sem: Semantics, o: Tensor) -> Tensor:
    return _extent(sem, o, "x", False)


def top_edge(sem: Semantics, o: Tensor) -> Tensor:
    return _extent(sem, o, "y", True)


def bottom_edge(sem: Semantics, o: Tensor) -> Tensor:
    return _extent(sem, o, "y", False)
