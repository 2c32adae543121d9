"""Detectors: video ``(B, T, 3, H, W)`` in [0, 1] -> soft masks ``(B, T, H, W)`` in [0, 1],
and the region algebra on masks. A static mask has T = 1 and broadcasts against T frames.

Exact detectors are hard thresholds (binary masks); smooth ones are sigmoids of the same
score, so the region algebra's exact min/max and smooth products agree on binary masks.
"""

from __future__ import annotations

from contextlib import nullcontext

import kornia
import torch
from torch import Tensor

from rulec.primitives.conventions import COLOR_SOFTNESS, COLOR_TOL
from rulec.primitives.semantics import Semantics


def hex_to_rgb01(hex_colour: str) -> tuple[float, float, float]:
    """``"#e53935"`` -> RGB in [0, 1]; a clear ValueError for anything else."""
    h = hex_colour[1:] if isinstance(hex_colour, str) and hex_colour.startswith("#") else None
    if h is None or len(h) != 6 or any(c not in "0123456789abcdefABCDEF" for c in h):
        raise ValueError(f"expected a colour like '#rrggbb', got {hex_colour!r}")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))


def first_frame(video: Tensor) -> Tensor:
    """The first frame ``(B, 1, 3, H, W)``, detached: detectors on it give frozen regions."""
    return video[:, :1].detach()


class ColourSpace:
    """A video as the colour detectors see it: its CIE Lab image and its distance to each
    colour, each computed once however many detectors and semantics ask for it.

    A reward evaluates its graph twice per call (exact under ``no_grad``, then smooth with
    gradients). It makes one ``ColourSpace`` per graph input for the call and hands it to
    the colour detectors of both passes: the first computes the distances with their graph
    (when the video needs gradients), the second reuses them. It serves the one tensor it was
    made for, for as long as the caller holds it, and starts afresh if that tensor was changed
    in place (its version counter moved), so a stale value is never served.
    """

    def __init__(self, video: Tensor):
        self.video = video
        self._version = video._version
        self._lab: Tensor | None = None
        self._distances: dict[str, Tensor] = {}

    def distance(self, hex_colour: str) -> Tensor:
        """Delta E 76 of every pixel to ``hex_colour``: ``(B, T, H, W)`` (detached when grad is off)."""
        if self.video._version != self._version:
            self._version, self._lab, self._distances = self.video._version, None, {}
        key = hex_colour.lower()
        if key not in self._distances:
            with torch.enable_grad() if self.video.requires_grad else nullcontext():
                if self._lab is None:
                    self._lab = _lab(self.video)
                self._distances[key] = _distance(self._lab, self.video, hex_colour)
        distance = self._distances[key]
        return distance if torch.is_grad_enabled() else distance.detach()


def _lab(video: Tensor) -> Tensor:
    b, t, c, h, w = video.shape
    return kornia.color.rgb_to_lab(video.reshape(b * t, c, h, w))


def _distance(lab: Tensor, video: Tensor, hex_colour: str) -> Tensor:
    b, t, _, h, w = video.shape
    target = torch.tensor(hex_to_rgb01(hex_colour), dtype=video.dtype, device=video.device)
    target_lab = kornia.color.rgb_to_lab(target.view(1, 3, 1, 1))
    squared = (lab - target_lab).square().sum(1)
    # sqrt(s + tiny^2): exact to far below a Lab unit, and a finite gradient where s = 0.
    return (squared + 1e-12).sqrt().reshape(b, t, h, w)


def lab_distance(video: Tensor | ColourSpace, hex_colour: str) -> Tensor:
    """CIE Lab distance (Delta E 76) of every pixel to ``hex_colour``: ``(B, T, H, W)``;
    read from a :class:`ColourSpace` when given one, else computed afresh."""
    hex_to_rgb01(hex_colour)  # a clear error before anything is computed
    if isinstance(video, ColourSpace):
        return video.distance(hex_colour)
    return _distance(_lab(video), video, hex_colour)


def color(sem: Semantics, video: Tensor | ColourSpace, hex: str, tol: float = COLOR_TOL) -> Tensor:
    """Pixels within ``tol`` (Lab Delta E) of a colour (of a video, or of a :class:`ColourSpace` shared by an evaluation)."""
    if not tol > 0:
        raise ValueError(f"color(tol=...) must be positive, got {tol!r}")
    return sem.step(tol - lab_distance(video, hex), tol / COLOR_SOFTNESS)


def box(sem: Semantics, video: Tensor, x0: float, y0: float, x1: float, y1: float) -> Tensor:
    """A static rectangle ``(B, 1, H, W)``: pixels whose centre lies in [x0, x1) x [y0, y1)."""
    b, _, _, h, w = video.shape
    xs = (torch.arange(w, device=video.device, dtype=video.dtype) + 0.5) / w
    ys = (torch.arange(h, device=video.device, dtype=video.dtype) + 0.5) / h
    inside_x = (xs >= x0) & (xs < x1)
    inside_y = (ys >= y0) & (ys < y1)
    mask = (inside_y.unsqueeze(1) & inside_x.unsqueeze(0)).to(video.dtype)
    return mask.expand(b, 1, h, w)


def _morphology(mask: Tensor, px: int, op) -> Tensor:
    if int(px) != px or px < 0:
        raise ValueError(f"grow/shrink take a whole number of pixels >= 0, got {px!r}")
    if px == 0:
        return mask
    b, t, h, w = mask.shape
    kernel = torch.ones(2 * int(px) + 1, 2 * int(px) + 1, dtype=mask.dtype, device=mask.device)
    out = op(mask.reshape(b * t, 1, h, w), kernel, border_type="geodesic")
    return out.reshape(b, t, h, w)


def grow(sem: Semantics, mask: Tensor, px: int) -> Tensor:
    """Dilate by ``px`` pixels (square structuring element; pixels outside the frame don't count)."""
    return _morphology(mask, px, kornia.morphology.dilation)


def shrink(sem: Semantics, mask: Tensor, px: int) -> Tensor:
    """Erode by ``px`` pixels (pixels outside the frame don't erode)."""
    return _morphology(mask, px, kornia.morphology.erosion)


def mask_not(sem: Semantics, a: Tensor) -> Tensor:
    return 1 - a


def mask_and(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.intersect(a, b)


def mask_or(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.union(a, b)


def mask_minus(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.intersect(a, 1 - b)
