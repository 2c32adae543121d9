"""What every task family shares: the instance record, the score, the family record, and
the motion/rendering helpers the generators and solvers use.

Positions are pixel indices ``(ix, iy)``; an object at ``(ix, iy)`` is centred on the pixel
centre ``(ix + 0.5, iy + 0.5)`` (what ``question_metadata.json`` stores), so a disc of
:data:`rulec.runtime.tasks.world.AGENT_RADIUS` always covers the same 21 pixels.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rulec.runtime.tasks import world

H = world.FRAME_SIZE
T = world.NUM_FRAMES
#: Largest step (pixels per frame, after rounding to pixels) of a solver's motion; the scorer allows 3.5.
SOLVER_MAX_STEP = 3.0
#: Frames the solved motion may use; the agent rests on the target for the remaining ones.
MOTION_FRAMES = T - 2
#: Smallest number of frames of motion a task must need, at the training clips' top speed.
MIN_MOTION_FRAMES = 8
CLIP_TOP_SPEED_PX = 2.0
#: So the solution path is at least this long (pixels).
MIN_PATH_PX = MIN_MOTION_FRAMES * CLIP_TOP_SPEED_PX
#: Pad sizes (pixels a side), as in the training clips (which also use 4, too small to hold the disc).
PAD_SIZES = (6, 8)


@dataclass
class Instance:
    """One task: what the model sees (first frame, prompt), the answer and the reference rules."""

    family: str
    seed: int
    first_frame: np.ndarray  # (H, W, 3) uint8
    prompt: str
    ground_truth: np.ndarray  # (T, H, W, 3) uint8
    rules_text: str
    metadata: dict = field(default_factory=dict)

    @property
    def final_frame(self) -> np.ndarray:
        return self.ground_truth[-1]

    @property
    def name(self) -> str:
        return f"{self.family}_{self.seed:05d}"


@dataclass
class Score:
    """An independent scorer's verdict: success iff every named sub-check passes."""

    success: bool
    partial: float  # weighted fraction of sub-checks passed, in [0, 1]
    checks: dict[str, bool]

    @classmethod
    def from_checks(cls, checks: dict[str, bool], weights: dict[str, float] | None = None) -> "Score":
        weights = weights or {}
        total = sum(weights.get(k, 1.0) for k in checks)
        got = sum(weights.get(k, 1.0) for k, ok in checks.items() if ok)
        return cls(success=all(checks.values()), partial=float(got / total) if total else 0.0, checks=dict(checks))


@dataclass(frozen=True)
class Corruption:
    """A way to spoil a ground truth, and the sub-check that must then fail."""

    name: str
    breaks: str
    make: Callable[["Instance"], np.ndarray]


@dataclass(frozen=True)
class Family:
    """A task family: generator + solver (``make``), scorer, and its own corruptions."""

    name: str
    summary: str
    make: Callable[[int], Instance]
    score: Callable[[Instance, np.ndarray], Score]
    corruptions: tuple[Corruption, ...] = ()


def rng_for(family: str, seed: int) -> np.random.Generator:
    """A generator that depends only on (family, seed), stable across Python runs."""
    return np.random.default_rng([zlib.crc32(family.encode()), int(seed)])


# ------------------------------------------------------------------ motion
def _straight(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Pixel positions after each of n equal steps from a to b (rounded to pixels)."""
    return np.stack([a + np.rint((b - a) * k / n).astype(int) for k in range(1, n + 1)])


def segment_frames(a, b) -> int:
    """Fewest frames a straight move from pixel a to pixel b takes at the solver's speed."""
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    if np.array_equal(a, b):
        return 0
    n = max(1, int(np.ceil(np.hypot(*(b - a)) / SOLVER_MAX_STEP)))
    while np.hypot(*np.diff(np.vstack([a, _straight(a, b, n)]), axis=0).T).max() > SOLVER_MAX_STEP:
        n += 1
    return n


def follow(waypoints, motion_frames: int | None = None, num_frames: int = T) -> np.ndarray | None:
    """Pixel positions ``(T, 2)`` along straight segments through ``waypoints``, then rest.

    Frames are shared out by segment length (at least what the speed limit needs); ``None``
    when the path does not fit in :data:`MOTION_FRAMES`.
    """
    pts = [np.asarray(waypoints[0], dtype=int)]
    for p in waypoints[1:]:
        if not np.array_equal(p, pts[-1]):
            pts.append(np.asarray(p, dtype=int))
    if len(pts) < 2:
        return None
    need = [segment_frames(a, b) for a, b in zip(pts[:-1], pts[1:])]
    budget = MOTION_FRAMES if motion_frames is None else motion_frames
    if sum(need) > budget or sum(need) == 0:
        return None
    lengths = np.array([np.hypot(*(b - a)) for a, b in zip(pts[:-1], pts[1:])])
    share = np.maximum(need, np.floor(budget * lengths / lengths.sum()).astype(int))
    while share.sum() > budget:
        i = int(np.argmax(share - need))
        share[i] -= 1
    out = [pts[0]]
    for (a, b), n in zip(zip(pts[:-1], pts[1:]), share):
        out.extend(_straight(a, b, int(n)))
    while len(out) < num_frames:
        out.append(pts[-1])
    return np.stack(out[:num_frames])


def path_length(path) -> float:
    """Length in pixels of a polyline (positions or waypoints)."""
    p = np.asarray(path, dtype=float)
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def too_short(path) -> bool:
    """The motion would take fewer than :data:`MIN_MOTION_FRAMES` frames at the clips' top speed."""
    return path_length(path) < MIN_PATH_PX


def pad_around(centre, size: int) -> tuple[np.ndarray, list[int]]:
    """A square pad of ``size`` that holds the disc drawn at pixel ``centre``: (mask, box [x0, y0, x1, y1])."""
    x0, y0 = int(centre[0]) - (size - 1) // 2, int(centre[1]) - (size - 1) // 2
    return rect_at(x0, y0, size, size), [x0, y0, x0 + size, y0 + size]


def motion_frames_of(path: np.ndarray) -> int:
    """Number of frames in which the position changes."""
    return int(np.any(np.diff(path, axis=0) != 0, axis=1).sum())


def centres(path: np.ndarray) -> list[list[float]]:
    """Pixel positions as pixel-centre coordinates, for metadata."""
    return [[float(x) + 0.5, float(y) + 0.5] for x, y in path]


def segment_directions(waypoints) -> list[str]:
    """Compass words of the straight segments of a path (consecutive repeats merged)."""
    words: list[str] = []
    for a, b in zip(waypoints[:-1], waypoints[1:]):
        dx, dy = b[0] - a[0], b[1] - a[1]
        if dx == 0 and dy == 0:
            continue
        w = world.direction_word(dx, dy)
        if not words or words[-1] != w:
            words.append(w)
    return words


# ------------------------------------------------------------------ drawing
def disc(pos) -> np.ndarray:
    """The agent-sized disc mask at a pixel position."""
    return world.disc_mask(H, pos[0] + 0.5, pos[1] + 0.5)


def swept(path: np.ndarray) -> np.ndarray:
    """Union of the discs along a path (every frame)."""
    m = np.zeros((H, H), dtype=bool)
    for p in path:
        m |= disc(p)
    return m


def swept_line(a, b) -> np.ndarray:
    """Union of discs along the straight line a -> b, sampled every half pixel."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = max(2, int(np.ceil(np.hypot(*(b - a)) * 2)) + 1)
    m = np.zeros((H, H), dtype=bool)
    for s in np.linspace(0.0, 1.0, n):
        p = a + (b - a) * s
        m |= world.disc_mask(H, p[0] + 0.5, p[1] + 0.5)
    return m


def render(scene: np.ndarray, movers: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Video ``(T, H, W, 3)``: the static scene with each ``(colour, path)`` disc on top."""
    frames = []
    for t in range(len(movers[0][1]) if movers else T):
        f = scene
        for colour, path in movers:
            f = world.paint(f, disc(path[t]), colour)
        frames.append(f)
    return np.stack(frames)


def colour_info(name: str) -> dict:
    return {"name": name, "hex": world.PALETTE[name]}


def pick_colours(rng: np.random.Generator, roles: list[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Distinct palette colour names for roles, each from its allowed set."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for role, allowed in roles:
        choices = [c for c in allowed if c not in used]
        out[role] = choices[int(rng.integers(len(choices)))]
        used.add(out[role])
    return out


def rect_at(x0: int, y0: int, w: int, h: int) -> np.ndarray:
    return world.rect_mask(H, x0, y0, x0 + w, y0 + h)
