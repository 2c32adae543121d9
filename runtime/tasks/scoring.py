"""Plain-numpy object detection for the independent scorers.

Deliberately free of torch, of ``rulec.primitives`` and of the compiler: the scorers are
the yardstick the compiled rules are measured against, so they must not share their code.

Detection works on *classes*, not raw colours: every pixel of a video is snapped to the
nearest colour (Euclidean RGB) of the palette present in the task's first frame. A model's
in-between colours therefore land on some palette colour instead of being lost. Tiny
agent-coloured specks (connected components under :data:`SPECK_AREA` pixels) are not
counted as objects, and up to :data:`SCENERY_TOLERANCE` stray pixels per frame are
forgiven when comparing scenery; everything else is strict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Connected components smaller than this many pixels are specks, not objects.
SPECK_AREA = 3
#: Pixels per frame that may differ from the expected scenery (compression fringe, specks).
SCENERY_TOLERANCE = 2
#: Largest centroid displacement per frame (pixels) that still counts as continuous motion.
MAX_STEP_PX = 3.5
#: An object keeps between these multiples of its first-frame area.
AREA_BOUNDS = (0.6, 1.5)
#: Fraction of an object's pixels that must lie in a region for it to be "inside".
INSIDE_FRAC = 0.9


def palette_of(frame: np.ndarray) -> np.ndarray:
    """The distinct colours of a frame, ``(K, 3)`` uint8, in a fixed (sorted) order."""
    return np.unique(frame.reshape(-1, 3), axis=0)


def snap(video: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Class index (into ``palette``) of every pixel: ``(..., H, W)`` int."""
    flat = video.reshape(-1, 3).astype(np.int32)
    d = ((flat[:, None, :] - palette[None, :, :].astype(np.int32)) ** 2).sum(-1)
    return d.argmin(1).reshape(video.shape[:-1])


def class_of(palette: np.ndarray, rgb: tuple[int, int, int]) -> int:
    """Index of an exact colour in the palette (-1 when absent)."""
    hits = np.nonzero(np.all(palette == np.asarray(rgb, dtype=palette.dtype), axis=1))[0]
    return int(hits[0]) if len(hits) else -1


def dilate(mask: np.ndarray, px: int = 1) -> np.ndarray:
    """Binary dilation of ``(..., H, W)`` masks with a (2px+1) square."""
    out = mask.copy()
    for _ in range(px):
        grown = out.copy()
        grown[..., 1:, :] |= out[..., :-1, :]
        grown[..., :-1, :] |= out[..., 1:, :]
        out = grown
        grown = out.copy()
        grown[..., :, 1:] |= out[..., :, :-1]
        grown[..., :, :-1] |= out[..., :, 1:]
        out = grown
    return out


def label(mask: np.ndarray) -> np.ndarray:
    """8-connected component labels of a 2-D boolean mask: 0 = background, 1..n components.

    Min-label propagation (vectorized numpy); labels are renumbered 1..n in raster order.
    """
    h, w = mask.shape
    big = h * w + 1
    lab = np.where(mask, np.arange(1, h * w + 1).reshape(h, w), big)
    while True:
        padded = np.pad(lab, 1, constant_values=big)
        neigh = np.stack([padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        new = np.where(mask, neigh.min(0), big)
        if np.array_equal(new, lab):
            break
        lab = new
    out = np.zeros((h, w), dtype=np.int32)
    for i, v in enumerate(np.unique(lab[mask]), start=1):
        out[lab == v] = i
    return out


@dataclass
class Track:
    """One coloured object followed through a video.

    ``mask`` is its largest component per frame (empty when absent), ``count`` the number of
    components that are not specks, ``area`` the main component's pixel count and
    ``centre`` its centroid in pixel coordinates (NaN when absent).
    """

    mask: np.ndarray  # (T, H, W) bool
    count: np.ndarray  # (T,) int
    area: np.ndarray  # (T,) int
    centre: np.ndarray  # (T, 2) float, (x, y)


def track(classes: np.ndarray, cls: int) -> Track:
    """Follow the pixels of one class through ``(T, H, W)`` class maps."""
    t_len, h, w = classes.shape
    masks = np.zeros((t_len, h, w), dtype=bool)
    count = np.zeros(t_len, dtype=int)
    area = np.zeros(t_len, dtype=int)
    centre = np.full((t_len, 2), np.nan)
    ys, xs = np.mgrid[0:h, 0:w]
    for t in range(t_len):
        lab = label(classes[t] == cls)
        sizes = np.bincount(lab.ravel())[1:]
        count[t] = int((sizes >= SPECK_AREA).sum())
        if len(sizes) and sizes.max() >= SPECK_AREA:
            m = lab == (int(sizes.argmax()) + 1)
            masks[t] = m
            area[t] = int(m.sum())
            centre[t] = (xs[m].mean() + 0.5, ys[m].mean() + 0.5)
    return Track(masks, count, area, centre)


def inside(mask: np.ndarray, region: np.ndarray, frac: float = INSIDE_FRAC) -> bool:
    """At least ``frac`` of the mask's pixels lie in the region (False for an empty mask)."""
    n = mask.sum()
    return bool(n > 0 and (mask & region).sum() >= frac * n)


def touches(mask: np.ndarray, region: np.ndarray) -> bool:
    """The mask overlaps the region grown by one pixel (8-neighbourhood)."""
    return bool((mask & dilate(region, 1)).any())


class Scene:
    """A video of a task, snapped to the first frame's palette, with the agent tracked.

    ``moving`` are the colours (RGB) of the objects that move in the ground truth; the
    expected scenery is the first frame with their pixels turned to the background colour.
    """

    def __init__(self, first_frame: np.ndarray, video: np.ndarray, agent_rgb, background_rgb, moving_rgbs=()):
        if video.ndim != 4 or video.shape[-1] != 3 or video.shape[1:3] != first_frame.shape[:2]:
            raise ValueError(f"expected a video of shape (T, {first_frame.shape[0]}, {first_frame.shape[1]}, 3), got {video.shape}")
        if video.shape[0] < 2:
            raise ValueError(f"expected at least 2 frames, got {video.shape[0]}")
        self.palette = palette_of(first_frame)
        self.first = snap(first_frame, self.palette)
        self.classes = snap(video, self.palette)
        self.agent_cls = class_of(self.palette, agent_rgb)
        self.background_cls = class_of(self.palette, background_rgb)
        self.agent = track(self.classes, self.agent_cls)
        self.expected = self.first.copy()
        for c in (agent_rgb, *moving_rgbs):
            self.expected[self.first == class_of(self.palette, c)] = self.background_cls

    def region(self, rgb) -> np.ndarray:
        """The first frame's pixels of one colour (a static region)."""
        return self.first == class_of(self.palette, rgb)

    # ---------------------------------------------------------- shared sub-checks
    def first_frame_kept(self) -> bool:
        return int((self.classes[0] != self.first).sum()) <= SCENERY_TOLERANCE

    def agent_single(self) -> bool:
        return bool(np.all(self.agent.count == 1))

    def agent_size(self) -> bool:
        a0 = self.agent.area[0]
        lo, hi = AREA_BOUNDS
        return bool(a0 > 0 and np.all((self.agent.area >= lo * a0) & (self.agent.area <= hi * a0)))

    def continuous(self) -> bool:
        c = self.agent.centre
        if np.isnan(c).any():
            return False
        return bool(np.all(np.hypot(*np.diff(c, axis=0).T) <= MAX_STEP_PX))

    def scenery_unchanged(self, also_exclude: np.ndarray | None = None) -> bool:
        """Outside the agent (grown by a pixel), every frame shows the expected scenery."""
        keep_out = dilate(self.agent.mask, 1)
        if also_exclude is not None:
            keep_out = keep_out | also_exclude
        wrong = (self.classes != self.expected[None]) & ~keep_out
        return bool(np.all(wrong.reshape(len(wrong), -1).sum(1) <= SCENERY_TOLERANCE))

    def region_unchanged(self, region: np.ndarray) -> bool:
        """A static object stays put: around it (grown by a pixel) every frame matches the first."""
        zone = dilate(region, 1)
        wrong = (self.classes != self.first[None]) & zone[None] & ~dilate(self.agent.mask, 1)
        return bool(np.all(wrong.reshape(len(wrong), -1).sum(1) <= SCENERY_TOLERANCE))

    def ends_inside(self, region: np.ndarray) -> bool:
        return inside(self.agent.mask[-1], region)

    def never_touches(self, region: np.ndarray) -> bool:
        grown = dilate(region, 1)
        return not bool((self.agent.mask & grown[None]).any())

    def common_checks(self) -> dict[str, bool]:
        return {
            "first_frame_kept": self.first_frame_kept(),
            "agent_single": self.agent_single(),
            "agent_size": self.agent_size(),
            "continuous": self.continuous(),
            "scenery_unchanged": self.scenery_unchanged(),
        }
