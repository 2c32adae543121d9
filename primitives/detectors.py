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

from rulec.primitives.conventions import (
    COLOR_SOFTNESS,
    COLOR_TOL,
    FRINGE_RATIO,
    HOLE_COVER,
    HOLE_FRINGE,
    PALETTE_BLEND,
    PALETTE_FLAT,
    PALETTE_MERGE,
    PALETTE_PIXELS,
    PALETTE_SHARE,
    PALETTE_SIZE,
)
from rulec.primitives.colours import hex_to_rgb01  # noqa: F401  (the one "#rrggbb" parser; still importable from here)
from rulec.primitives.semantics import Semantics


def first_frame(video: Tensor) -> Tensor:
    """The first frame ``(B, 1, 3, H, W)``, detached: detectors on it give frozen regions."""
    return video[:, :1].detach()


def _lab_of(rgb: Tensor) -> Tensor:
    """``(K, 3)`` RGB in [0, 1] -> ``(K, 3)`` CIE Lab."""
    return kornia.color.rgb_to_lab(rgb.reshape(-1, 3, 1, 1)).reshape(-1, 3)


def frame_palette(frame: Tensor, named: tuple[str, ...] = ()) -> Tensor:
    """The colours of one frame ``(3, H, W)`` that a detector competes with: ``(K, 3)`` RGB.

    Flat pixels (their 3x3 neighbourhood within ``PALETTE_FLAT`` per channel) are binned at 5 bits
    per channel; a bin covering at least ``PALETTE_SHARE`` of the
    frame and ``PALETTE_PIXELS`` pixels gives one colour, the mean of its pixels. From the
    commonest down, a colour is kept unless it lies within ``PALETTE_MERGE`` (Lab) of a kept or
    ``named`` colour (the same colour, shifted by noise or a codec), or within ``PALETTE_BLEND``
    (RGB) of the segment between two kept or named colours (a blend of them: an anti-aliased
    or codec fringe). Computed without gradient; the ``named`` colours are not in the result.
    """
    with torch.no_grad():
        frame = frame.detach().to(torch.float64)
        h, w = frame.shape[-2:]
        q = (frame.clamp(0, 1) * 255).round().to(torch.int64).reshape(3, -1)
        index = ((q[0] >> 3) << 10) | ((q[1] >> 3) << 5) | (q[2] >> 3)
        # only flat pixels count (their 3x3 neighbourhood varies by at most PALETTE_FLAT per channel):
        # edges, fringes and codec ringing are not colours of the scene
        pooled = torch.nn.functional.max_pool2d(frame.unsqueeze(0), 3, 1, 1) + torch.nn.functional.max_pool2d(-frame.unsqueeze(0), 3, 1, 1)
        flat = (pooled[0].amax(0) <= PALETTE_FLAT).reshape(-1)
        index = torch.where(flat, index, torch.full_like(index, 1 << 15))
        counts = torch.bincount(index, minlength=(1 << 15) + 1)[: 1 << 15]
        least = max(PALETTE_PIXELS, PALETTE_SHARE * h * w)
        bins = torch.nonzero(counts >= least).flatten()
        bins = bins[torch.argsort(counts[bins], descending=True, stable=True)]
        sums = torch.stack([torch.bincount(index, weights=frame.reshape(3, -1)[c], minlength=(1 << 15) + 1)[: 1 << 15] for c in range(3)], 1)
        reps = sums[bins] / counts[bins].unsqueeze(1)
        anchors = [torch.tensor(hex_to_rgb01(c), dtype=torch.float64) for c in named]
        kept: list[Tensor] = []
        for rgb in reps:
            if len(kept) >= PALETTE_SIZE:
                break
            known = anchors + kept
            if known:
                labs = _lab_of(torch.stack([*known, rgb]))
                if ((labs[:-1] - labs[-1]).norm(dim=1) < PALETTE_MERGE).any():
                    continue
                if _is_blend(rgb, known):
                    continue
            kept.append(rgb)
        return torch.stack(kept).to(frame.dtype) if kept else frame.new_zeros((0, 3))


def _is_blend(rgb: Tensor, known: list[Tensor]) -> bool:
    """Whether ``rgb`` lies within ``PALETTE_BLEND`` of the open segment between two ``known`` colours."""
    for i in range(len(known)):
        for j in range(i + 1, len(known)):
            a, b = known[i], known[j]
            ab = b - a
            length = float(ab.square().sum())
            if length == 0:
                continue
            f = float(((rgb - a) * ab).sum()) / length
            if 0.05 < f < 0.95 and float((a + f * ab - rgb).norm()) < PALETTE_BLEND:
                return True
    return False


#: Lab distance below which a palette colour is the detector's own colour (not a competitor).
SAME_COLOUR = 0.5


class Palette:
    """The colours a colour detector competes with, per batch item: the colours the rules name
    and each first frame's palette (:func:`frame_palette`), in Lab."""

    def __init__(self, start: Tensor, named: tuple[str, ...] = ()):
        """``start``: the first frame ``(B, 1|T, 3, H, W)`` (frame 0 is read)."""
        self.named = tuple(sorted({c.lower() for c in named}))
        with torch.no_grad():
            named_rgb = [torch.tensor(hex_to_rgb01(c), dtype=torch.float64) for c in self.named]
            self.rgb = []
            for frame in start[:, 0]:
                own = frame_palette(frame, self.named)
                both = torch.cat([torch.stack(named_rgb), own.to(torch.float64)]) if named_rgb else own.to(torch.float64)
                self.rgb.append(both)
            self.lab = [_lab_of(c.to(torch.float32)).to(start.dtype) if len(c) else start.new_zeros((0, 3)) for c in self.rgb]

    @classmethod
    def none(cls) -> Palette:
        """No competing colours: the plain Lab threshold."""
        palette = cls.__new__(cls)
        palette.named, palette.rgb, palette.lab = (), [], []
        return palette

    def competitors(self, item: int, hex_colour: str) -> Tensor:
        """Lab colours ``(K, 3)`` of batch item ``item`` other than ``hex_colour`` itself (the first
        frame's colours are all at least ``PALETTE_MERGE`` from every named one)."""
        if not self.lab:
            return torch.zeros((0, 3))
        lab = self.lab[min(item, len(self.lab) - 1)]
        if not len(lab):
            return lab
        target = _lab_of(torch.tensor(hex_to_rgb01(hex_colour), dtype=torch.float32).view(1, 3)).to(lab)
        return lab[(lab - target).norm(dim=1) >= SAME_COLOUR]


class ColourSpace:
    """A video as the colour detectors see it: its CIE Lab image, its distance to each
    colour and each detector's score, each computed once however many detectors and semantics ask for it.

    A reward evaluates its graph twice per call (exact under ``no_grad``, then smooth with
    gradients). It makes one ``ColourSpace`` per graph input for the call and hands it to
    the colour detectors of both passes: the first computes the distances with their graph
    (when the video needs gradients), the second reuses them. It serves the one tensor it was
    made for, for as long as the caller holds it, and starts afresh if that tensor was changed
    in place (its version counter moved), so a stale value is never served.

    ``palette``: the colours the detectors compete with (:class:`Palette`); by default the
    first frame's palette of ``start`` (or of the video itself), with ``named`` colours.
    """

    def __init__(self, video: Tensor, start: Tensor | None = None, named: tuple[str, ...] = (), palette: Palette | None = None):
        self.video = video
        self._version = video._version
        self._lab: Tensor | None = None
        self._distances: dict[str, Tensor] = {}
        self._scores: dict[tuple[str, float], Tensor] = {}
        self._palette = palette
        self._own_palette = palette is None
        self._palette_source = (start if start is not None else video[:, :1]).detach()
        self._named = named

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = Palette(self._palette_source, self._named)
        return self._palette

    def _fresh(self) -> None:
        if self.video._version != self._version:
            self._version, self._lab, self._distances, self._scores = self.video._version, None, {}, {}
            if self._own_palette:
                self._palette = None

    def _grad(self):
        return torch.enable_grad() if self.video.requires_grad else nullcontext()

    def distance(self, hex_colour: str) -> Tensor:
        """Delta E 76 of every pixel to ``hex_colour``: ``(B, T, H, W)`` (detached when grad is off)."""
        self._fresh()
        key = hex_colour.lower()
        if key not in self._distances:
            with self._grad():
                if self._lab is None:
                    self._lab = _lab(self.video)
                self._distances[key] = _distance(self._lab, self.video, hex_colour)
        distance = self._distances[key]
        return distance if torch.is_grad_enabled() else distance.detach()

    def score(self, hex_colour: str, tol: float) -> Tensor:
        """``min(tol - d, FRINGE_RATIO * d_other - d)``: positive where a pixel is this colour
        (``d`` its Lab distance to it, ``d_other`` to the nearest competing palette colour)."""
        self._fresh()
        key = (hex_colour.lower(), float(tol))
        if key not in self._scores:
            self.distance(hex_colour)
            d = self._distances[key[0]]  # with its graph, if any
            with self._grad():
                if self._lab is None:
                    self._lab = _lab(self.video)
                self._scores[key] = _score(self._lab, self.video, d, self.palette, hex_colour, tol)
        score = self._scores[key]
        return score if torch.is_grad_enabled() else score.detach()


def _score(lab: Tensor, video: Tensor, d: Tensor, palette: Palette, hex_colour: str, tol: float) -> Tensor:
    b, t, _, h, w = video.shape
    lab = lab.reshape(b, t, 3, h, w)
    items = []
    for i in range(b):
        s = tol - d[i]
        for c in palette.competitors(i, hex_colour):
            other = ((lab[i] - c.view(1, 3, 1, 1)).square().sum(1) + 1e-12).sqrt()
            s = torch.minimum(s, FRINGE_RATIO * other - d[i])
        items.append(s)
    return torch.stack(items)


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
    """Pixels of a colour: within ``tol`` (Lab Delta E) of it and clearly nearer to it than to any
    other palette colour (``ColourSpace.score``). A plain tensor competes with its own first frame's
    palette; a :class:`ColourSpace` shared by an evaluation with the palette it was given."""
    if not tol > 0:
        raise ValueError(f"color(tol=...) must be positive, got {tol!r}")
    hex_to_rgb01(hex)
    space = video if isinstance(video, ColourSpace) else ColourSpace(video)
    return sem.step(space.score(hex, tol), tol / COLOR_SOFTNESS)


def box(sem: Semantics, video: Tensor, x0: float, y0: float, x1: float, y1: float) -> Tensor:
    """A static rectangle ``(B, 1, H, W)``: pixels whose centre lies in [x0, x1) x [y0, y1)."""
    b, _, _, h, w = video.shape
    xs = (torch.arange(w, device=video.device, dtype=video.dtype) + 0.5) / w
    ys = (torch.arange(h, device=video.device, dtype=video.dtype) + 0.5) / h
    inside_x = (xs >= x0) & (xs < x1)
    inside_y = (ys >= y0) & (ys < y1)
    mask = (inside_y.unsqueeze(1) & inside_x.unsqueeze(0)).to(video.dtype)
    return mask.expand(b, 1, h, w)


def mask_not(sem: Semantics, a: Tensor) -> Tensor:
    return 1 - a


def mask_and(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.intersect(a, b)


def mask_or(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.union(a, b)


def mask_minus(sem: Semantics, a: Tensor, b: Tensor) -> Tensor:
    return sem.intersect(a, 1 - b)


def fill_holes(sem: Semantics, region: Tensor, *objects: Tensor) -> Tensor:
    """``region`` with its holes under the objects filled: each hole (a 4-connected piece of
    non-region pixels that ``region > 0.5`` encloses, ``scipy.ndimage.binary_fill_holes``) is
    added where the ``objects`` (``> 0.5``, grown by ``HOLE_FRINGE`` pixels: their anti-aliased
    or codec fringe) cover at least ``HOLE_COVER`` of it. Only enclosed holes: an object in a
    corridor between walls is not enclosed by the walls, so the walls never take it. Exact: the
    binary result; smooth: the soft region's maximum with the filled holes (no gradient: frozen
    regions carry none)."""
    import numpy as np
    from scipy.ndimage import binary_dilation, binary_fill_holes, label

    shape = tuple(np.broadcast_shapes(tuple(region.shape), *(tuple(o.shape) for o in objects)))
    binary = (region.detach() > 0.5).expand(shape).cpu().numpy()
    covered = np.zeros(shape, dtype=bool)
    for o in objects:
        covered |= (o.detach() > 0.5).expand(shape).cpu().numpy()
    add = np.zeros(shape, dtype=bool)
    grow_by = np.ones((2 * HOLE_FRINGE + 1,) * 2, dtype=bool)
    for index in np.ndindex(*shape[:2]):
        r = binary[index]
        if not covered[index].any() or not r.any():
            continue
        holes = binary_fill_holes(r) & ~r
        if not holes.any():
            continue
        labels, n = label(holes)
        near = binary_dilation(covered[index], grow_by)
        share = np.bincount(labels[near], minlength=n + 1) / np.maximum(np.bincount(labels.ravel(), minlength=n + 1), 1)
        add[index] = (share >= HOLE_COVER)[labels] & holes
    filled = torch.from_numpy(add).to(device=region.device, dtype=region.dtype)
    if sem.is_exact:
        return torch.maximum((region > 0.5).to(region.dtype).expand(shape), filled)
    return torch.maximum(region.expand(shape), filled)
