"""The task world's drawing conventions, shared by the task suite and the training clips.

Every video in the suite and in the embedded model's training data is drawn with these
helpers, so the model learns the same pixels the tasks show. Shapes are hard-edged
(no anti-aliasing): each pixel has exactly one palette colour, which lets the
independent scorers detect objects by exact colour.

Frames are ``uint8`` arrays of shape ``(H, W, 3)``; videos ``(T, H, W, 3)``.
Coordinates are in pixels, x to the right, y downwards, pixel centres at ``i + 0.5``.
"""

from __future__ import annotations

import numpy as np

from rulec.primitives.colours import hex_to_rgb  # the one '#rrggbb' parser (re-exported: world.hex_to_rgb)

FRAME_SIZE = 32
NUM_FRAMES = 16

#: Named colours of the world (hex). The background is white, walls are black.
PALETTE: dict[str, str] = {
    "white": "#ffffff",
    "black": "#000000",
    "red": "#e53935",
    "green": "#43a047",
    "blue": "#1e88e5",
    "yellow": "#fdd835",
    "orange": "#fb8c00",
    "purple": "#8e24aa",
    "cyan": "#00acc1",
    "grey": "#9e9e9e",
}

#: Colours an agent or a movable object may take (never white, black or grey).
AGENT_COLOURS = ("red", "blue", "purple", "orange", "cyan")
#: Colours a static pad (goal, waypoint, hazard) may take.
PAD_COLOURS = ("green", "yellow", "blue", "orange", "cyan", "purple")

BACKGROUND = "white"
WALL = "black"
AGENT_RADIUS = 2.5  # a disc about 5 px across


def rgb(name: str) -> tuple[int, int, int]:
    """The RGB triple of a palette colour name."""
    return hex_to_rgb(PALETTE[name])


def blank(size: int = FRAME_SIZE, colour: str = BACKGROUND) -> np.ndarray:
    """A frame filled with one palette colour."""
    frame = np.empty((size, size, 3), dtype=np.uint8)
    frame[...] = rgb(colour)
    return frame


def disc_mask(size: int, cx: float, cy: float, radius: float = AGENT_RADIUS) -> np.ndarray:
    """Boolean ``(size, size)`` mask of the pixels whose centre lies within ``radius`` of (cx, cy)."""
    ys, xs = np.mgrid[0:size, 0:size]
    return (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= radius**2


def rect_mask(size: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Boolean mask of the pixel rectangle ``[x0, x1) x [y0, y1)`` (clipped to the frame)."""
    mask = np.zeros((size, size), dtype=bool)
    mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
    return mask


def paint(frame: np.ndarray, mask: np.ndarray, colour: str) -> np.ndarray:
    """A copy of ``frame`` with ``mask`` painted in a palette colour."""
    out = frame.copy()
    out[mask] = rgb(colour)
    return out


def colour_mask(frame: np.ndarray, colour: str) -> np.ndarray:
    """Boolean mask of the pixels of ``frame`` (H, W, 3) or video (T, H, W, 3) exactly equal to a palette colour."""
    return np.all(frame == np.asarray(rgb(colour), dtype=frame.dtype), axis=-1)


# ------------------------------------------------------------------ captions
#: The closed caption vocabulary: "<colour> disc moves <direction>[, then <direction>]..."
#: or "<colour> disc stays still"; the empty caption is allowed too.
DIRECTIONS = ("up", "down", "left", "right", "up-left", "up-right", "down-left", "down-right")


def direction_word(dx: float, dy: float) -> str:
    """The compass word for a displacement (y grows downwards), one of :data:`DIRECTIONS`."""
    if dx == 0 and dy == 0:
        raise ValueError("no direction for a zero displacement")
    angle = np.degrees(np.arctan2(-dy, dx)) % 360.0  # 0 = right, 90 = up
    words = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")
    return words[int(((angle + 22.5) % 360.0) // 45.0)]


def caption(colour: str, directions: list[str] | tuple[str, ...]) -> str:
    """A caption in the closed vocabulary, e.g. ``caption("red", ["right", "down"])``."""
    if not directions:
        return f"{colour} disc stays still"
    for d in directions:
        if d not in DIRECTIONS:
            raise ValueError(f"unknown direction {d!r}")
    return f"{colour} disc moves " + ", then ".join(directions)


def along_polyline(points, num_frames: int = NUM_FRAMES, moving_frames: int | None = None) -> np.ndarray:
    """Centres ``(num_frames, 2)`` at constant speed along a polyline, reaching its end at
    frame ``moving_frames`` (default: two frames before the end) and resting there.

    Used to draw hand-made videos (tutorial, tests) without the task suite's solvers.
    """
    pts = np.asarray(points, dtype=float)
    moves = num_frames - 2 if moving_frames is None else moving_frames
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    out = []
    for t in range(num_frames):
        s = cum[-1] * min(t, moves) / moves
        i = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
        out.append(pts[i] + (pts[i + 1] - pts[i]) * (s - cum[i]) / seg[i])
    return np.stack(out)
