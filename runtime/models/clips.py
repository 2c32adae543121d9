"""Seeded motion clips in the task world: the embedded model's only training data.

Scenes look like the task families (a goal pad, a maze of walls, a hazard pad, waypoint
pads, a second movable object, still distractors) but the motion is task-agnostic: the
agent moves in straight segments with a random direction and speed, bounces off walls
and the frame border, sometimes stops and sometimes turns once. No clip ever solves a
task on purpose, so the model never sees a task's ground-truth solution.

Everything is drawn with :mod:`rulec.runtime.tasks.world`, so clips use the exact pixels the
task suite shows. The drawn disc centre is snapped to a pixel centre, so the agent keeps
the same 21-pixel shape in every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rulec.runtime.tasks import world

SIZE = world.FRAME_SIZE
FRAMES = world.NUM_FRAMES
#: Probability that a clip's caption is left empty (the model must work without one).
EMPTY_CAPTION_P = 0.2
#: Maze cell size: walls 2 px thick on cell borders leave corridors 6 px wide.
CELL = 8


@dataclass
class Clip:
    """One training clip: the video, its caption and the agent's drawn track."""

    video: np.ndarray  # (T, H, W, 3) uint8
    caption: str
    agent_colour: str
    track: np.ndarray  # (T, 2) drawn agent centre (x, y), pixel centres
    directions: list[str] = field(default_factory=list)
    #: drawn centre (T, 2) of every object that may move (the agent, a second movable object), by colour name
    movers: dict[str, np.ndarray] = field(default_factory=dict)


def _snap(p: np.ndarray) -> np.ndarray:
    """Drawn centre of a disc at float position p: the pixel centre it falls in."""
    return np.floor(p) + 0.5


def _disc(cx: float, cy: float) -> np.ndarray:
    return world.disc_mask(SIZE, cx, cy, world.AGENT_RADIUS)


def _fits(p: np.ndarray, blocked: np.ndarray) -> bool:
    """Whether a disc drawn at p lies fully inside the frame and off every blocked pixel."""
    c = _snap(p)
    r = world.AGENT_RADIUS
    if c[0] - r < 0 or c[1] - r < 0 or c[0] + r > SIZE or c[1] + r > SIZE:
        return False
    return not bool((_disc(c[0], c[1]) & blocked).any())


def _maze_walls(rng: np.random.Generator) -> np.ndarray:
    """Walls of a random braided maze on a 4x4 grid of 8-px cells (corridors 6 px wide)."""
    n = SIZE // CELL
    # walls between horizontally adjacent cells (vertical bars) and vertically adjacent ones
    vwall = np.ones((n, n - 1), dtype=bool)
    hwall = np.ones((n - 1, n), dtype=bool)
    seen = np.zeros((n, n), dtype=bool)
    stack = [(int(rng.integers(n)), int(rng.integers(n)))]
    seen[stack[0]] = True
    while stack:
        r, c = stack[-1]
        options = [(r + dr, c + dc) for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0))
                   if 0 <= r + dr < n and 0 <= c + dc < n and not seen[r + dr, c + dc]]
        if not options:
            stack.pop()
            continue
        nr, nc = options[int(rng.integers(len(options)))]
        if nr == r:
            vwall[r, min(c, nc)] = False
        else:
            hwall[min(r, nr), c] = False
        seen[nr, nc] = True
        stack.append((nr, nc))
    # braid: open some extra walls so the agent has room to move
    vwall &= rng.random(vwall.shape) > 0.4
    hwall &= rng.random(hwall.shape) > 0.4
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    for r in range(n):
        for c in range(n - 1):
            if vwall[r, c]:
                x = (c + 1) * CELL
                mask |= world.rect_mask(SIZE, x - 1, r * CELL - 1, x + 1, (r + 1) * CELL + 1)
    for r in range(n - 1):
        for c in range(n):
            if hwall[r, c]:
                y = (r + 1) * CELL
                mask |= world.rect_mask(SIZE, c * CELL - 1, y - 1, (c + 1) * CELL + 1, y + 1)
    return mask


def _free_spot(rng: np.random.Generator, blocked: np.ndarray, maze: bool, tries: int = 200) -> np.ndarray | None:
    for _ in range(tries):
        if maze:
            p = np.array([rng.integers(SIZE // CELL) * CELL + 4.0, rng.integers(SIZE // CELL) * CELL + 4.0])
        else:
            p = rng.uniform(3.0, SIZE - 3.0, size=2)
        if _fits(p, blocked):
            return p
    return None


def _pad(rng: np.random.Generator, taken: np.ndarray, size: int, maze: bool) -> np.ndarray | None:
    """A square pad mask of side ``size`` that overlaps nothing already placed."""
    for _ in range(100):
        if maze:
            x0 = int(rng.integers(SIZE // CELL)) * CELL + (CELL - size) // 2
            y0 = int(rng.integers(SIZE // CELL)) * CELL + (CELL - size) // 2
        else:
            x0, y0 = (int(v) for v in rng.integers(0, SIZE - size + 1, size=2))
        m = world.rect_mask(SIZE, x0, y0, x0 + size, y0 + size)
        if not (m & taken).any():
            return m
    return None


def _move(rng: np.random.Generator, start: np.ndarray, blocked: np.ndarray, maze: bool,
          frames: int = FRAMES) -> tuple[np.ndarray, list[int]]:
    """Float positions (T, 2) of an agent moving in straight segments, bouncing off walls,
    and the frame indices where each segment (constant velocity) starts."""
    def new_velocity() -> np.ndarray:
        speed = rng.uniform(0.5, 2.0)
        if maze or rng.random() < 0.4:
            angle = rng.integers(4) * np.pi / 2
        else:
            angle = rng.uniform(0, 2 * np.pi)
        return speed * np.array([np.cos(angle), np.sin(angle)])

    v = new_velocity()
    stop_at = int(rng.integers(4, frames)) if rng.random() < 0.2 else frames
    turn_at = int(rng.integers(3, frames - 3)) if rng.random() < 0.3 else -1
    p = start.astype(float).copy()
    track = [p.copy()]
    starts = [0]
    for t in range(1, frames):
        old_v = v
        if t == turn_at:
            v = new_velocity()
        if t >= stop_at:
            track.append(p.copy())
            continue
        moved = False
        for flip in (np.array([1, 1]), np.array([-1, 1]), np.array([1, -1]), np.array([-1, -1])):
            cand = p + v * flip
            if _fits(cand, blocked):
                v = v * flip
                p = cand
                moved = True
                break
        if not moved:  # boxed in: stop here for good
            stop_at = t
        if not np.array_equal(v, old_v) or not moved:
            starts.append(t - 1)
        track.append(p.copy())
    return np.stack(track), starts


def _directions(drawn: np.ndarray, starts: list[int]) -> list[str]:
    """Compass words of the drawn displacement of each straight segment, merged when repeated."""
    words: list[str] = []
    bounds = sorted(set(starts)) + [len(drawn) - 1]
    for a, b in zip(bounds[:-1], bounds[1:]):
        disp = drawn[b] - drawn[a]
        if np.hypot(*disp) >= 1.5:  # a segment has to move visibly to be described
            w = world.direction_word(float(disp[0]), float(disp[1]))
            if not words or words[-1] != w:
                words.append(w)
    return words


def make_clip(seed: int, frames: int = FRAMES) -> Clip:
    """A deterministic training clip for ``seed``."""
    rng = np.random.default_rng([seed, 0x70C1])
    while True:
        clip = _try_clip(rng, frames)
        if clip is not None:
            return clip


def _try_clip(rng: np.random.Generator, frames: int) -> Clip | None:
    kind = rng.choice(["navigate", "maze", "hazard", "waypoints", "movable", "open"],
                      p=[0.2, 0.25, 0.15, 0.15, 0.15, 0.1])
    maze = kind == "maze"
    walls = _maze_walls(rng) if maze else np.zeros((SIZE, SIZE), dtype=bool)
    if kind in ("navigate", "hazard") and rng.random() < 0.3:  # a few free-standing bars
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < 0.5:
                x0, y0 = int(rng.integers(4, 28)), int(rng.integers(0, 18))
                walls |= world.rect_mask(SIZE, x0, y0, x0 + 2, y0 + int(rng.integers(8, 15)))
            else:
                x0, y0 = int(rng.integers(0, 18)), int(rng.integers(4, 28))
                walls |= world.rect_mask(SIZE, x0, y0, x0 + int(rng.integers(8, 15)), y0 + 2)

    agent_colour = str(rng.choice(world.AGENT_COLOURS))
    pad_colours = [c for c in world.PAD_COLOURS if c != agent_colour]
    rng.shuffle(pad_colours)
    n_pads = {"navigate": 1, "maze": 1, "hazard": 2, "waypoints": 3, "movable": 1, "open": 0}[kind]
    n_pads += int(rng.integers(0, 2))  # sometimes a still distractor pad
    frame = world.blank()
    taken = walls.copy()
    for colour in pad_colours[:n_pads]:
        m = _pad(rng, taken, int(rng.choice([4, 6])) if maze else int(rng.choice([4, 6, 8])), maze)
        if m is None:
            return None
        frame = world.paint(frame, m, colour)
        taken |= m
    frame = world.paint(frame, walls, world.WALL)

    start = _free_spot(rng, walls, maze)
    if start is None:
        return None
    track, starts = _move(rng, start, walls, maze, frames)

    # a second movable object (disc or square) in another agent colour, sometimes moving
    other = None
    if kind == "movable" or rng.random() < 0.15:
        others = [c for c in world.AGENT_COLOURS if c != agent_colour and c not in pad_colours[:n_pads]]
        if others:
            ocol = str(rng.choice(others))
            blocked = walls | _disc(*_snap(start))
            ostart = _free_spot(rng, blocked | world.disc_mask(SIZE, *_snap(start), 6.0), maze)
            if ostart is not None:
                otrack = _move(rng, ostart, walls, maze, frames)[0] if rng.random() < 0.5 else np.repeat(ostart[None], frames, 0)
                square = rng.random() < 0.5
                other = (ocol, otrack, square)

    video = np.empty((frames, SIZE, SIZE, 3), dtype=np.uint8)
    drawn = _snap(track)
    movers = {agent_colour: drawn}
    if other is not None:
        movers[other[0]] = _snap(other[1])
    for t in range(frames):
        f = frame
        if other is not None:
            ocol, otrack, square = other
            oc = _snap(otrack[t])
            if square:
                x0, y0 = int(oc[0] - 2.5), int(oc[1] - 2.5)
                om = world.rect_mask(SIZE, x0, y0, x0 + 5, y0 + 5)
            else:
                om = _disc(*oc)
            if (om & (_disc(*drawn[t]) | walls)).any():  # no overlap with the agent or a wall
                return None
            f = world.paint(f, om, ocol)
        video[t] = world.paint(f, _disc(*drawn[t]), agent_colour)
    directions = _directions(drawn, starts)
    text = "" if rng.random() < EMPTY_CAPTION_P else world.caption(agent_colour, directions)
    return Clip(video=video, caption=text, agent_colour=agent_colour, track=drawn, directions=directions, movers=movers)


def make_batch(seeds: list[int] | range) -> tuple[np.ndarray, list[str]]:
    """Videos ``(B, T, H, W, 3)`` uint8 and their captions for a list of seeds."""
    clips = [make_clip(int(s)) for s in seeds]
    return np.stack([c.video for c in clips]), [c.caption for c in clips]
