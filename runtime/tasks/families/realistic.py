"""What the realistic families share (issue #20): drawing like public video-reasoning
benchmarks, and codec-robust detection for their independent scorers.

The six original families are 32x32, flat-coloured and lossless; real benchmark instances are
not (design/lessons.md, last section). The realistic families draw:

- frames of 256 to 1024 pixels, 50 to 100 frames at 16 fps;
- shapes **anti-aliased** with **dark outlines**: every shape is rasterized with PIL at
  :data:`SUPERSAMPLE` x supersampling and box-filtered down, as a premultiplied sprite, and
  composited in z-order, so edges carry in-between colours (fill/outline/background blends);
- several objects of **one colour**, objects that **start on a region**, **occlusion** (an
  object drawn under another while they overlap).

Geometry is in normalized frame units (0..1), so one seed gives the same layout at any size:
tests render at 128 px, the benchmark at the family's realistic default.

Detection for the scorers (plain numpy + scipy.ndimage, no torch, no rulec primitives):
every pixel goes to the **nearest palette colour** (Euclidean RGB; the palette is the
instance's declared colours, not the first frame's distinct colours, which are thousands
once edges are anti-aliased) **unless it is farther than a cutoff** from all of them: then
it is fringe (class -1) and belongs to no object. Each class mask is then **opened** (erosion
then dilation by :func:`open_radius` pixels) so that thin bands of in-between colours, such as
the grey that an outline blended with the background looks like, never form an object.
Objects are 8-connected components of the opened masks (``scipy.ndimage.label``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndimage


#: Supersampling factor of the rasterizer (a 4x4 box filter per output pixel).
SUPERSAMPLE = 4
#: Frames per second of the realistic videos (VBVR-Bench's rate).
FPS = 16

#: The realistic palette (names -> hex). Background and outline are not object colours.
BACKGROUND = "#f4f1ea"
OUTLINE = "#263238"
COLOURS: dict[str, str] = {
    "blue": "#1e88e5",
    "red": "#e53935",
    "green": "#43a047",
    "orange": "#fb8c00",
    "purple": "#8e24aa",
    "grey": "#9e9e9e",
    "brown": "#8d6e63",
    "yellow": "#fdd835",
    "teal": "#00897b",
    "table": "#c9b8a8",
}

#: Fraction of the smallest pairwise palette distance beyond which a pixel is fringe.
CUTOFF_FRACTION = 0.45
#: Peak speed of a solver's motion (normalized units per frame); the scorers allow :data:`MAX_STEP`.
SOLVER_PEAK = 0.03
#: Largest centroid displacement per frame (normalized) an object may make and still move continuously.
MAX_STEP = 0.06
#: ``grow(object, AROUND)`` in the reference rules, where a moving object's surroundings are
#: excluded from a scenery rule: its anti-aliased outline, and the codec's chroma blur and
#: ringing around it (measured through an mp4 at 192 px: 8 % of the target pad's pixels beyond
#: 2 px of the ball changed while it rested there, none beyond 4 px). In frame units, so the
#: same rule reads the same at 256 and 1024 px.
AROUND = 0.02


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``"#e53935"`` -> ``(229, 57, 53)`` (parsed here: the scorers share no code with the rules)."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a colour like '#rrggbb', got {hex_colour!r}")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def outline_px(size: int) -> float:
    """Outline width in output pixels: about 0.6 % of the frame, at least 1.5 px."""
    return max(1.5, 0.006 * size)


def open_radius(size: int) -> int:
    """Radius (px) of the opening that removes fringe bands from class masks."""
    return 2 if size >= 192 else 1


def colour_entry(name: str) -> dict:
    return {"name": name, "hex": COLOURS[name]}


def base_colours() -> dict:
    return {"background": {"name": "background", "hex": BACKGROUND}, "outline": {"name": "outline", "hex": OUTLINE}}


# ------------------------------------------------------------------ drawing
@dataclass
class Sprite:
    """An anti-aliased shape: premultiplied colour ``(h, w, 3)`` and coverage ``(h, w)``, both
    float32; the shape's centre is the centre of pixel ``(kx, ky)`` (``w = 2 kx + 1``, ``h = 2 ky + 1``)."""

    premult: np.ndarray
    alpha: np.ndarray
    kx: int
    ky: int


def shape_sprite(kind: str, half_w: float, half_h: float, fill: str, outline_w: float, corner: float = 0.0) -> Sprite:
    """A circle/ellipse (``kind="ellipse"``) or a (rounded) rectangle (``"rect"``) with a dark
    outline of ``outline_w`` px, drawn at :data:`SUPERSAMPLE` x and box-filtered down.

    ``half_w``/``half_h`` are the outer half sizes in output pixels (outline included)."""
    from PIL import Image, ImageDraw

    ss = SUPERSAMPLE
    kx, ky = int(math.ceil(half_w)) + 2, int(math.ceil(half_h)) + 2
    w, h = 2 * kx + 1, 2 * ky + 1
    colour = Image.new("RGB", (w * ss, h * ss), (0, 0, 0))
    cover = Image.new("L", (w * ss, h * ss), 0)
    cx, cy = (kx + 0.5) * ss, (ky + 0.5) * ss
    box = [cx - half_w * ss, cy - half_h * ss, cx + half_w * ss - 1, cy + half_h * ss - 1]
    width = max(1, int(round(outline_w * ss)))
    for img, f, o in ((colour, rgb(fill), rgb(OUTLINE)), (cover, 255, 255)):
        draw = ImageDraw.Draw(img)
        if kind == "ellipse":
            draw.ellipse(box, fill=f, outline=o, width=width)
        elif kind == "rect":
            draw.rounded_rectangle(box, radius=corner * ss, fill=f, outline=o, width=width)
        else:
            raise ValueError(f"unknown shape {kind!r}")
    col = np.asarray(colour, dtype=np.float32).reshape(h, ss, w, ss, 3).mean((1, 3))
    alpha = np.asarray(cover, dtype=np.float32).reshape(h, ss, w, ss).mean((1, 3)) / 255.0
    return Sprite(col, alpha, kx, ky)


def circle(radius_px: float, fill: str, outline_w: float) -> Sprite:
    return shape_sprite("ellipse", radius_px, radius_px, fill, outline_w)


def rect(half_w_px: float, half_h_px: float, fill: str, outline_w: float, corner_px: float = 0.0) -> Sprite:
    return shape_sprite("rect", half_w_px, half_h_px, fill, outline_w, corner_px)


def paste(frame: np.ndarray, sprite: Sprite, pos) -> None:
    """Composite ``sprite`` onto a float frame ``(H, W, 3)`` with its centre at pixel ``pos`` (in place)."""
    h, w = frame.shape[:2]
    x0, y0 = int(pos[0]) - sprite.kx, int(pos[1]) - sprite.ky
    sh, sw = sprite.alpha.shape
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + sw, w), min(y0 + sh, h)
    if fx0 >= fx1 or fy0 >= fy1:
        return
    sx0, sy0 = fx0 - x0, fy0 - y0
    a = sprite.alpha[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0, None]
    p = sprite.premult[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0]
    region = frame[fy0:fy1, fx0:fx1]
    region *= 1.0 - a
    region += p


def coverage(shape: tuple[int, int], sprite: Sprite, pos) -> np.ndarray:
    """The sprite's coverage ``(H, W)`` in [0, 1] at ``pos`` (for occlusion bookkeeping)."""
    out = np.zeros(shape + (1,), dtype=np.float32)
    paste(out, Sprite(sprite.alpha[..., None].copy(), sprite.alpha, sprite.kx, sprite.ky), pos)
    return out[..., 0]


@dataclass
class Layer:
    """One object of a video: its sprite and its pixel position per frame ``(T, 2)``. Layers are
    drawn in list order (later ones on top)."""

    name: str
    sprite: Sprite | list  # one sprite, or one per frame (an object that changes shape)
    positions: np.ndarray

    def at(self, t: int) -> Sprite:
        return self.sprite[t] if isinstance(self.sprite, list) else self.sprite


def render(size: int, layers: list[Layer], num_frames: int) -> np.ndarray:
    """The video ``(T, size, size, 3)`` uint8: background, then every layer in order."""
    bg = np.empty((size, size, 3), dtype=np.float32)
    bg[...] = rgb(BACKGROUND)
    static = [l for l in layers if np.all(l.positions == l.positions[0]) and not isinstance(l.sprite, list)]
    # the bottom run of layers that never move is composited once
    bottom = 0
    while bottom < len(layers) and layers[bottom] in static:
        paste(bg, layers[bottom].sprite, layers[bottom].positions[0])
        bottom += 1
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    for t in range(num_frames):
        f = bg.copy()
        for layer in layers[bottom:]:
            paste(f, layer.at(t), layer.positions[t])
        np.rint(np.clip(f, 0, 255), out=f)
        frames[t] = f.astype(np.uint8)
    return frames


def visible_fraction(size: int, layers: list[Layer], name: str, num_frames: int) -> np.ndarray:
    """Per frame, the fraction of layer ``name``'s coverage not hidden by the layers above it."""
    idx = next(i for i, l in enumerate(layers) if l.name == name)
    out = np.ones(num_frames)
    me = layers[idx]
    for t in range(num_frames):
        own = coverage((size, size), me.at(t), me.positions[t])
        seen = own.copy()
        for above in layers[idx + 1 :]:
            seen *= 1.0 - coverage((size, size), above.at(t), above.positions[t])
        out[t] = float(seen.sum() / max(own.sum(), 1e-6))
    return out


# ------------------------------------------------------------------ motion
def ramp(u: np.ndarray, accel: float = 0.25) -> np.ndarray:
    """A trapezoidal velocity profile: the fraction of a move done at time fraction ``u``
    (accelerates for ``accel`` of the move, cruises, decelerates; peak = 1 / (1 - accel) x mean)."""
    v = 1.0 / (1.0 - accel)
    u = np.asarray(u, dtype=float)
    return np.where(u <= accel, v * u**2 / (2 * accel),
                    np.where(u >= 1 - accel, 1 - v * (1 - u) ** 2 / (2 * accel), v * (accel / 2 + u - accel)))


def move_frames(length: float, peak: float = SOLVER_PEAK) -> int:
    """Frames a straight move of ``length`` (normalized) takes at a peak speed of ``peak``."""
    return max(2, int(math.ceil(length / (peak * (1 - 0.25)))))


def moves(start, segments: list[tuple[tuple[float, float], int]]) -> np.ndarray:
    """Normalized positions, one per frame, of straight moves ``(end, frames)`` from ``start``,
    each with the :func:`ramp` profile: ``(sum of frames, 2)``, ``start`` itself not included."""
    out = []
    cur = np.asarray(start, dtype=float)
    for end, n in segments:
        end = np.asarray(end, dtype=float)
        s = ramp(np.arange(1, n + 1) / n)
        out.extend(cur + (end - cur) * s[:, None])
        cur = end
    return np.array(out).reshape(-1, 2)


def to_pixels(path: np.ndarray, size: int) -> np.ndarray:
    """Normalized centres -> pixel indices (the object's centre at the pixel's centre)."""
    return np.rint(np.asarray(path) * size - 0.5).astype(int)


def centres_of(pixels: np.ndarray, size: int) -> list[list[float]]:
    """Pixel indices -> normalized centres (for metadata)."""
    return [[round((float(x) + 0.5) / size, 6), round((float(y) + 0.5) / size, 6)] for x, y in pixels]


# ------------------------------------------------------------------ detection (the scorers)
#: Class tables of recent palettes (16 MB each), shared by every video judged against one palette.
_LUTS: dict = {}


class Palette:
    """An instance's declared colours: role -> RGB; nearest-colour classes with a fringe cutoff."""

    def __init__(self, colours: dict):
        self.roles = list(colours)
        self.rgb = np.array([rgb(colours[r]["hex"]) for r in self.roles], dtype=np.float32)
        d = np.sqrt(((self.rgb[:, None] - self.rgb[None]) ** 2).sum(-1))
        d[np.eye(len(d), dtype=bool)] = np.inf
        self.cutoff = float(CUTOFF_FRACTION * d.min())
        self._norm = (self.rgb**2).sum(-1)
        self._lut: np.ndarray | None = None

    def index(self, role: str) -> int:
        return self.roles.index(role)

    def classify(self, frame: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` uint8 -> ``(H, W)`` int8 class (index into roles), -1 for fringe.

        Each RGB triple is classified once and remembered (a lazily filled 2^24 table), so a
        frame costs a table read per pixel."""
        idx = frame[..., 0].astype(np.int32) << 16
        idx |= frame[..., 1].astype(np.int32) << 8
        idx |= frame[..., 2]
        if self._lut is None:
            key = (tuple(map(tuple, self.rgb.astype(int))), self.cutoff)
            if key not in _LUTS:
                if len(_LUTS) >= 8:
                    _LUTS.pop(next(iter(_LUTS)))
                _LUTS[key] = np.full(1 << 24, -2, dtype=np.int8)
            self._lut = _LUTS[key]
        new = idx[self._lut[idx] == -2]
        if new.size:
            new = np.unique(new)
            cols = np.stack([(new >> 16) & 255, (new >> 8) & 255, new & 255], axis=1).astype(np.float32)
            d2 = (cols**2).sum(-1, keepdims=True) - 2.0 * cols @ self.rgb.T + self._norm[None]
            best = d2.argmin(1)
            near = d2[np.arange(len(cols)), best] <= self.cutoff**2
            self._lut[new] = np.where(near, best, -1).astype(np.int8)
        return self._lut[idx]


def _crop(mask: np.ndarray, pad: int):
    """The slices of the mask's bounding box grown by ``pad`` (None for an empty mask)."""
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    if not len(rows):
        return None
    h, w = mask.shape
    return (slice(max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h)), slice(max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)))


def opened(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary opening with a ``(2r+1)`` square: bands thinner than ``2r+1`` px vanish."""
    if radius <= 0:
        return mask
    box = _crop(mask, 2 * radius + 1)
    if box is None:
        return mask
    out = np.zeros_like(mask)
    part = ndimage.minimum_filter(mask[box], size=2 * radius + 1, mode="nearest")
    out[box] = ndimage.maximum_filter(part, size=2 * radius + 1, mode="constant", cval=False)
    return out


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation with a ``(2r+1)`` square (a separable maximum filter)."""
    if radius <= 0:
        return mask
    box = _crop(mask, radius + 1)
    if box is None:
        return mask.copy()
    out = np.zeros_like(mask)
    out[box] = ndimage.maximum_filter(mask[box], size=2 * radius + 1, mode="constant", cval=False)
    return out


def filled(mask: np.ndarray) -> np.ndarray:
    """The mask with its holes filled (a pad with an object standing on it becomes the whole pad)."""
    return ndimage.binary_fill_holes(mask)


@dataclass
class Blob:
    """One connected component: its pixels, area (px) and centroid (x, y) in pixels."""

    mask: np.ndarray
    area: int
    centre: np.ndarray
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

    @property
    def size(self) -> tuple[int, int]:
        return self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1]


EIGHT = np.ones((3, 3), dtype=bool)


def blobs(mask: np.ndarray, min_area: float = 1) -> list[Blob]:
    """8-connected components of at least ``min_area`` pixels, largest first."""
    lab, n = ndimage.label(mask, structure=EIGHT)
    if n == 0:
        return []
    areas = np.bincount(lab.ravel())[1:]
    boxes = ndimage.find_objects(lab)
    out = []
    for i in np.nonzero(areas >= min_area)[0]:
        sl = boxes[i]
        sub = lab[sl] == i + 1
        ys, xs = np.nonzero(sub)
        m = np.zeros(mask.shape, dtype=bool)
        m[sl] = sub
        y0, x0 = sl[0].start, sl[1].start
        out.append(Blob(m, int(areas[i]), np.array([xs.mean() + x0 + 0.5, ys.mean() + y0 + 0.5]),
                        (x0, y0, sl[1].stop, sl[0].stop)))
    out.sort(key=lambda b: -b.area)
    return out


def class_mask(classes: np.ndarray, cls: int, radius: int) -> np.ndarray:
    return opened(classes == cls, radius)


def stable_core(classes: np.ndarray, band: int) -> np.ndarray:
    """Pixels whose whole ``(2 band + 1)`` neighbourhood has their class (not fringe): where a
    frame can be compared with another without edge and codec effects."""
    core = np.zeros(classes.shape, dtype=bool)
    for c in np.unique(classes):
        if c < 0:
            continue
        core |= ndimage.binary_erosion(classes == c, structure=np.ones((2 * band + 1,) * 2, dtype=bool), border_value=1)
    return core


def inside_frac(mask: np.ndarray, region: np.ndarray) -> float:
    n = int(mask.sum())
    return float((mask & region).sum() / n) if n else 0.0


def assign(cost: np.ndarray, unmatched: float) -> list[tuple[int, int]]:
    """Minimum-cost matching of rows (tracks) to columns (blobs); a row or column may stay
    unmatched at cost ``unmatched`` each (so no pair costing more is ever made)."""
    from scipy.optimize import linear_sum_assignment

    n, m = cost.shape
    if n == 0 or m == 0:
        return []
    big = unmatched * 4 + 1.0
    full = np.full((n + m, m + n), big)
    full[:n, :m] = np.minimum(cost, big)
    full[:n, m:][np.eye(n, dtype=bool)] = unmatched
    full[n:, :m][np.eye(m, dtype=bool)] = unmatched
    full[n:, m:] = 0.0
    rows, cols = linear_sum_assignment(full)
    return sorted((int(i), int(j)) for i, j in zip(rows, cols) if i < n and j < m and cost[i, j] < unmatched)


class Video:
    """A video to judge, classified frame by frame against an instance's palette."""

    def __init__(self, inst, video: np.ndarray):
        size = inst.first_frame.shape[0]
        if video.ndim != 4 or video.shape[-1] != 3 or video.shape[1:3] != inst.first_frame.shape[:2]:
            raise ValueError(f"expected a video of shape (T, {size}, {size}, 3), got {video.shape}")
        if video.shape[0] < 2:
            raise ValueError(f"expected at least 2 frames, got {video.shape[0]}")
        self.size = size
        self.palette = Palette(inst.metadata["colours"])
        self.radius = open_radius(size)
        self.outline = outline_px(size)
        self.first = self.palette.classify(inst.first_frame)
        self.classes = np.stack([self.palette.classify(f) for f in video])
        self.T = video.shape[0]
        self._core: np.ndarray | None = None

    def cls(self, role: str) -> int:
        return self.palette.index(role)

    def mask(self, t: int | None, role: str) -> np.ndarray:
        """The opened class mask of ``role`` in frame ``t`` (``None``: the task's first frame)."""
        classes = self.first if t is None else self.classes[t]
        return class_mask(classes, self.cls(role), self.radius)

    @property
    def margin(self) -> int:
        """Pixels around an object's fill that its outline and fringe may occupy."""
        return int(math.ceil(self.outline)) + self.radius + 2

    @property
    def core(self) -> np.ndarray:
        """The task image's stable core (:func:`stable_core`), computed once."""
        if self._core is None:
            self._core = stable_core(self.first, self.radius + 1)
        return self._core

    def frame_kept(self, t: int, exclude: np.ndarray | None = None, tolerance: float = 0.002) -> bool:
        """Frame ``t`` shows the task image's classes on the image's stable core (outside ``exclude``)."""
        core = self.core.copy()
        if exclude is not None:
            core &= ~exclude
        wrong = (self.classes[t] != self.first) & core
        return int(wrong.sum()) <= tolerance * self.size * self.size

    def scenery_kept(self, exclude_per_frame, tolerance: float = 0.002) -> bool:
        """Every frame matches the task image on its stable core outside what moves
        (``exclude_per_frame(t)``: pixels of frame t that may differ)."""
        core = self.core
        limit = tolerance * self.size * self.size
        for t in range(self.T):
            wrong = (self.classes[t] != self.first) & core & ~exclude_per_frame(t)
            if int(wrong.sum()) > limit:
                return False
        return True


def encodes_entry() -> dict:
    """Metadata entries of a realistic instance's videos: the frame rate, and the files its
    folder holds (the lossless ``ground_truth.mp4`` and the ordinary H.264 4:2:0 encode)."""
    return {"fps": FPS, "encodes": {"lossless": "ground_truth.mp4", "h264": "ground_truth_h264.mp4"}}
