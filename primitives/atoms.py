"""Atoms: masks and measures -> signed per-frame margins ``(B, T)`` scaled to about 1.

Positive means the atom holds. Scales (see ``conventions.py`` and docs/primitives.md):

* fractions (``inside``, ``overlaps``, ``touches``) map piecewise-linearly onto [-1, 1]:
  -1 at fraction 0, 0 at the threshold, +1 at fraction 1; below the threshold the margin
  is multiplied by ``1 + dbar / REACH_SCALE`` (dbar: how far the object's mass lies from
  the region), so it keeps a slope far from the region without changing its sign;
* thresholds on non-negative quantities (``present``, ``moving``, ``still``) are
  ``tanh((q - threshold) / threshold)``: in (-1, 1), never flat, so gradients never vanish;
* positions (``left_of``...) and comparisons between two signals use ``POSITION_SCALE``;
  a comparison with a number ``c`` uses ``|c|`` as its scale.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rulec.primitives import measures
from rulec.primitives.conventions import (
    DECREASE_SCALE,
    DECREASE_TOL,
    EMPTY_MARGIN,
    OVERLAP_FRACTION,
    POSITION_SCALE,
    REACH_SCALE,
)
from rulec.primitives.detectors import grow
from rulec.primitives.fields import mean_distance
from rulec.primitives.measures import mass, safe_ratio
from rulec.primitives.semantics import Semantics


def fraction_margin(fraction: Tensor, threshold: float) -> Tensor:
    """[0, 1] -> [-1, 1], piecewise linear through 0 at ``threshold``."""
    if not 0 < threshold < 1:
        raise ValueError(f"a fraction threshold must lie strictly between 0 and 1, got {threshold!r}")
    return torch.where(
        fraction >= threshold,
        (fraction - threshold) / (1 - threshold),
        (fraction - threshold) / threshold,
    )


def reach_margin(fraction: Tensor, threshold: float, distance: Tensor) -> Tensor:
    """``fraction_margin``, its negative part scaled by ``1 + distance / REACH_SCALE``.

    A mass overlap is flat while the object is away from the region; the distance factor
    keeps the margin falling with distance there. The factor is >= 1, so the sign (and every
    exact verdict) is the fraction's, and it meets the unscaled margin at the threshold (0).
    """
    margin = fraction_margin(fraction, threshold)
    return torch.where(fraction >= threshold, margin, margin * (1 + distance / REACH_SCALE))


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return float(value)


def inside(sem: Semantics, o: Tensor, r: Tensor, frac: float = 0.9) -> Tensor:
    """Share of o's mass lying in r, against ``frac``, pulled by o's distance to r below it.
    An empty object is not inside (-1)."""
    share = safe_ratio(mass(o * r), mass(o), 0.0)
    return reach_margin(share, frac, mean_distance(o, r))


def overlaps(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    """Shared mass as a fraction of the smaller mask's mass, against ``OVERLAP_FRACTION``;
    below it, pulled by the nearer of the two masks' mean distances to the other (symmetric)."""
    shared = safe_ratio(mass(a * b), torch.minimum(mass(a), mass(b)), 0.0)
    a_to_b = mean_distance(a, b)
    return reach_margin(shared, OVERLAP_FRACTION, torch.minimum(a_to_b, mean_distance(b, a, enough=a_to_b)))


def touches(sem: Semantics, o: Tensor, r: Tensor) -> Tensor:
    """o overlaps r grown by one pixel."""
    return overlaps(sem, o, grow(sem, r, 1))


def near(sem: Semantics, a: Tensor, b: Tensor, d: float = 0.15) -> Tensor:
    d = _positive("near(d=...)", d)
    return (d - measures.distance(sem, a, b)) / d


def left_of(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return (measures.x(sem, b) - measures.x(sem, a)) / POSITION_SCALE


def right_of(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return (measures.x(sem, a) - measures.x(sem, b)) / POSITION_SCALE


def above(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return (measures.y(sem, b) - measures.y(sem, a)) / POSITION_SCALE


def below(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return (measures.y(sem, a) - measures.y(sem, b)) / POSITION_SCALE


def present(sem: Semantics, o: Tensor, min_area: float = 0.005) -> Tensor:
    min_area = _positive("present(min_area=...)", min_area)
    return torch.tanh((measures.area(sem, o) - min_area) / min_area)


def moving(sem: Semantics, o: Tensor, v: float = 0.01) -> Tensor:
    v = _positive("moving(v=...)", v)
    return torch.tanh((measures.speed(sem, o) - v) / v)


def still(sem: Semantics, o: Tensor, v: float = 0.01) -> Tensor:
    v = _positive("still(v=...)", v)
    return torch.tanh((v - measures.speed(sem, o)) / v)


def covered_pixels(region: Tensor, *images: Tensor) -> tuple[Tensor, ...]:
    """``images`` (``(..., H, W)``) reduced to the pixels where ``region`` (``(B, 1, H, W)``) is
    non-zero in any batch item, as ``(..., K, 1)`` frames in raster order: a masked sum over
    them is the full-frame sum, at the cost of the region's pixels instead of the frame's."""
    index = torch.nonzero((region.detach() != 0).flatten(-2).any(0).any(0)).squeeze(-1)
    return tuple(x.flatten(-2).index_select(-1, index).unsqueeze(-1) for x in images)


def unchanged(sem: Semantics, video: Tensor, start: Tensor, r: Tensor, tol: float = 0.1) -> Tensor:
    """Mean absolute RGB change from the first frame over region r, against ``tol``.
    An empty region is unchanged (+1)."""
    tol = _positive("unchanged(tol=...)", tol)
    if r.shape[1] == 1:  # a frozen region: only the pixels it covers can count
        video, start, r = covered_pixels(r, video, start, r)
    change = (video - start).abs().mean(2)  # (B, T, H, W)
    mean_change = safe_ratio((change * r).sum((-2, -1)), mass(r.expand_as(change)), 0.0)
    return (tol - mean_change) / tol


def _comparison_scale(a, b) -> float:
    for side in (a, b):
        if not isinstance(side, Tensor) and side != 0:
            return abs(float(side))
    return POSITION_SCALE


def _as_tensor(value, like) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(like, Tensor):
        return torch.full_like(like[:, :1], float(value))
    return torch.tensor([[float(value)]])


def lt(sem: Semantics, a, b) -> Tensor:
    """``a < b`` as ``(b - a) / scale``; either side may be a Python number."""
    scale = _comparison_scale(a, b)
    return (_as_tensor(b, a) - _as_tensor(a, b)) / scale


def gt(sem: Semantics, a, b) -> Tensor:
    """``a > b`` as ``(a - b) / scale``."""
    return lt(sem, b, a)


def decreasing(sem: Semantics, m: Tensor) -> Tensor:
    """``(m_t - m_{t+1} + DECREASE_TOL) / DECREASE_SCALE``; the last frame is neutral (+1)."""
    if m.shape[1] == 1:
        return torch.full_like(m, EMPTY_MARGIN)
    drop = (m[:, :-1] - m[:, 1:] + DECREASE_TOL) / DECREASE_SCALE
    return torch.cat([drop, torch.full_like(m[:, :1], EMPTY_MARGIN)], dim=1)
