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
    PRESENT_AREA,
    PRESENT_FRAC,
    PRESENT_PIXELS,
    TOUCH_RADIUS,
    UNCHANGED_PIXEL,
    UNCHANGED_SOFTNESS,
    UNCHANGED_TOL,
    REACH_SCALE,
)
from rulec.primitives.fields import mean_distance
from rulec.primitives.measures import mass, safe_ratio
from rulec.primitives.morphology import grow
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
    """o overlaps r grown by ``TOUCH_RADIUS`` (frame units: 1 px at 32 px, more where outlines lie between)."""
    return overlaps(sem, o, grow(sem, r, TOUCH_RADIUS, "frame"))


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


def present_threshold(sem: Semantics, first: Tensor | None, frac: float, min_area: float) -> tuple[Tensor | float, Tensor | float]:
    """The area present() compares with, and the margin's scale.

    ``min_area`` when given (> 0), scale ``min_area``. Else ``frac`` times the object's area a0
    in frame 0 (``first``: the object frozen on the first frame, ``(B, 1, H, W)``), scale
    ``(a0 - a) / 2``: the margin is tanh(2) = 0.96 at the object's own size. Where the object
    covers fewer than ``PRESENT_PIXELS`` pixels in frame 0 (absent there), ``PRESENT_AREA`` as
    an absolute threshold.
    """
    if min_area < 0:
        raise ValueError(f"present(min_area=...) must be >= 0 (0: relative to frame 0), got {min_area!r}")
    if min_area > 0:
        return float(min_area), float(min_area)
    if not 0 < frac < 1:
        raise ValueError(f"present(frac=...) must lie strictly between 0 and 1, got {frac!r}")
    if first is None:
        return PRESENT_AREA, PRESENT_AREA
    first_area = measures.area(sem, first.detach())  # (B, 1)
    seen = measures.mass(first.detach()) >= PRESENT_PIXELS
    fallback = torch.full_like(first_area, PRESENT_AREA)
    threshold = torch.where(seen, frac * first_area, fallback)
    scale = torch.where(seen, (1 - frac) * first_area / 2, fallback)
    return threshold, scale


def present(sem: Semantics, o: Tensor, frac: float = PRESENT_FRAC, min_area: float = 0.0, first: Tensor | None = None) -> Tensor:
    """``tanh((area - a) / s)``, (a, s) = :func:`present_threshold` (relative to frame 0 by default)."""
    threshold, scale = present_threshold(sem, first, frac, min_area)
    return torch.tanh((measures.area(sem, o) - threshold) / scale)


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


def changed_pixels(sem: Semantics, video: Tensor, start: Tensor) -> Tensor:
    """Per pixel, whether it changed from the first frame: its mean absolute RGB change exceeds
    ``UNCHANGED_PIXEL`` (exact: 0/1; smooth: ``sigmoid((change - UNCHANGED_PIXEL) / (UNCHANGED_PIXEL / UNCHANGED_SOFTNESS))``)."""
    change = (video - start).abs().mean(2)  # (B, T, H, W)
    return sem.step(change - UNCHANGED_PIXEL, UNCHANGED_PIXEL / UNCHANGED_SOFTNESS)


def unchanged(sem: Semantics, video: Tensor, start: Tensor, r: Tensor, tol: float = UNCHANGED_TOL) -> Tensor:
    """The share of region r's pixels that changed from the first frame (:func:`changed_pixels`),
    against ``tol``: ``(tol - share) / tol`` up to tol, ``(tol - share) / (1 - tol)`` beyond (so
    from +1 to -1, like the other fraction margins), so a local repaint of a large region fails
    however small its mean change. An empty region is unchanged (+1)."""
    tol = _positive("unchanged(tol=...)", tol)
    if r.shape[1] == 1:  # a frozen region: only the pixels it covers can count
        video, start, r = covered_pixels(r, video, start, r)
    change = (video - start).abs().mean(2)
    changed = changed_pixels(sem, video, start)
    area = mass(r.expand_as(changed))
    share = safe_ratio((changed * r).sum((-2, -1)), area, 0.0)
    # unit-sized like the other fraction margins: +1 nothing changed, 0 at tol, -1 all changed
    margin = torch.where(share <= tol, (tol - share) / tol, (tol - share) / (1 - tol))
    # failing, the margin also grows with r's mean change (same sign), so it still pulls on
    # pixels changed far beyond the step, where the step is flat
    mean_change = safe_ratio((change * r).sum((-2, -1)), area, 0.0)
    return torch.where(margin < 0, margin * (1 + mean_change / UNCHANGED_PIXEL), margin)


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
