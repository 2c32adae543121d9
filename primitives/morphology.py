"""``grow`` and ``shrink``: flat rectangular dilation and erosion of masks ``(B, T, H, W)``.

A radius is written in normalized frame units (``grow(agent, 0.03)``: 0.03 of the frame's
width horizontally, of its height vertically, like every other distance of the language)
or explicitly in pixels (``grow(agent, 1px)``). :func:`radius_pixels` is the one place that
turns a radius into pixels per axis; the kernels here and the reward's geometry check
(E504) both call it.

The structuring element is the rectangle ``(2 ry + 1) x (2 rx + 1)``. Dilation is a
separable max pool (a ``(2 ry + 1, 1)`` pool, then ``(1, 2 rx + 1)``; stride 1, padding r),
whose implicit ``-inf`` padding means pixels outside the frame don't count; erosion is
``-max_pool(-mask)``, so pixels outside the frame don't erode. That is kornia's flat
``dilation``/``erosion`` with ``border_type="geodesic"`` on binary and soft masks alike, in
O(r) per pixel instead of O(r^2). Pure functions: nothing is modified in place; gradients
(max pooling's: to the arg-max of each window) are finite, also on empty masks.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

from rulec.limits import MAX_PIXELS, MAX_RADIUS
from rulec.primitives.semantics import Semantics

__all__ = ["UNITS", "radius_pixels", "grow", "shrink"]

#: The units a radius may be written in: ``"frame"`` (a bare number) and ``"px"`` (``2px``).
UNITS = ("frame", "px")


def radius_pixels(value: float | int, unit: str, h: int, w: int) -> tuple[int, int]:
    """The radius ``(ry, rx)`` in pixels of a ``value`` in ``unit`` on frames of ``h x w`` pixels.

    ``"px"``: a whole number of pixels on both axes. ``"frame"``: ``value * h`` vertically
    and ``value * w`` horizontally, each rounded to the nearest pixel (halves up); an axis
    whose radius rounds to 0 is left unchanged.
    """
    if unit == "px":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) \
                or not 0 <= value <= MAX_PIXELS:
            raise ValueError(f"grow/shrink take a whole number of pixels in [0, {MAX_PIXELS}], got {value!r}")
        return int(value), int(value)
    if unit == "frame":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not 0 <= value <= MAX_RADIUS:
            raise ValueError(f"grow/shrink take a radius in frame units in [0, {MAX_RADIUS:g}], got {value!r}")
        return math.floor(value * h + 0.5), math.floor(value * w + 0.5)
    raise ValueError(f"grow/shrink radius unit must be one of {UNITS}, got {unit!r}")


def _dilate(mask: Tensor, ry: int, rx: int) -> Tensor:
    """Flat rectangular dilation; outside pixels are ``-inf`` (they don't count)."""
    out = mask
    if ry > 0:
        out = F.max_pool2d(out, kernel_size=(2 * ry + 1, 1), stride=1, padding=(ry, 0))
    if rx > 0:
        out = F.max_pool2d(out, kernel_size=(1, 2 * rx + 1), stride=1, padding=(0, rx))
    return out


def _radius_of(mask: Tensor, value: float | int, unit: str) -> tuple[int, int]:
    if mask.dim() != 4:
        raise ValueError(f"grow/shrink take masks (B, T, H, W), got shape {tuple(mask.shape)}")
    return radius_pixels(value, unit, mask.shape[-2], mask.shape[-1])


def grow(sem: Semantics, mask: Tensor, r: float | int, unit: str) -> Tensor:
    """Dilate by the radius ``r`` in ``unit`` (a rectangle; pixels outside the frame don't count)."""
    ry, rx = _radius_of(mask, r, unit)
    return _dilate(mask, ry, rx)


def shrink(sem: Semantics, mask: Tensor, r: float | int, unit: str) -> Tensor:
    """Erode by the radius ``r`` in ``unit`` (pixels outside the frame don't erode)."""
    ry, rx = _radius_of(mask, r, unit)
    if ry == 0 and rx == 0:
        return mask
    return -_dilate(-mask, ry, rx)
