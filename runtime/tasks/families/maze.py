"""Maze: reach the goal cell through the corridors of a 3x3 maze without touching a wall.

Parameters: agent and goal colours, the maze (a random spanning tree of the 3x3 cell
grid: 7-px corridors, 3-px walls), start and goal cells (2 to 4 moves apart, with at
least one turn, and the straight line between them crossing a wall). Solver: the
shortest path through the cell tree, along corridor centres.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from rulec.runtime import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    MIN_MOTION_FRAMES, Corruption, Family, Instance, Score, centres, colour_info, follow, motion_frames_of,
    pick_colours, rect_at, render, rng_for, segment_directions, swept, swept_line,
)
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "maze"
CELLS = 3
ORIGIN = (2, 12, 22)  # first pixel of each cell's interior, along x and along y
CELL = 7  # corridor width
GAP = 3  # wall thickness between cells


def cell_centre(c) -> np.ndarray:
    return np.array([ORIGIN[c[0]] + CELL // 2, ORIGIN[c[1]] + CELL // 2])


def carve(rng: np.random.Generator) -> set[frozenset]:
    """Open passages of a random spanning tree over the cell grid (randomized depth-first search)."""
    start = (int(rng.integers(CELLS)), int(rng.integers(CELLS)))
    seen, stack, passages = {start}, [start], set()
    while stack:
        x, y = stack[-1]
        nbrs = [(x + dx, y + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= x + dx < CELLS and 0 <= y + dy < CELLS and (x + dx, y + dy) not in seen]
        if not nbrs:
            stack.pop()
            continue
        n = nbrs[int(rng.integers(len(nbrs)))]
        passages.add(frozenset([(x, y), n]))
        seen.add(n)
        stack.append(n)
    return passages


def floor_mask(passages: set[frozenset]) -> np.ndarray:
    """Pixels that are corridor (everything else is wall)."""
    m = np.zeros((32, 32), dtype=bool)
    for cx in range(CELLS):
        for cy in range(CELLS):
            m |= rect_at(ORIGIN[cx], ORIGIN[cy], CELL, CELL)
    for p in passages:
        (ax, ay), (bx, by) = sorted(p)
        if ax != bx:  # horizontal neighbours: open the wall between them
            m |= rect_at(ORIGIN[ax] + CELL, ORIGIN[ay], GAP, CELL)
        else:
            m |= rect_at(ORIGIN[ax], ORIGIN[ay] + CELL, CELL, GAP)
    return m


def cell_path(passages: set[frozenset], a, b) -> list[tuple[int, int]]:
    """Shortest cell sequence from a to b (breadth-first search)."""
    prev = {a: None}
    queue = deque([a])
    while queue:
        c = queue.popleft()
        for p in passages:
            if c in p:
                (n,) = p - {c}
                if n not in prev:
                    prev[n] = c
                    queue.append(n)
    out, c = [], b
    while c is not None:
        out.append(c)
        c = prev[c]
    return out[::-1]


def corners(points: list[np.ndarray]) -> list[np.ndarray]:
    """Keep only the turning points of a polyline."""
    keep = [points[0]]
    for p, q, r in zip(points[:-2], points[1:-1], points[2:]):
        if segment_directions([p, q]) != segment_directions([q, r]):
            keep.append(q)
    return keep + [points[-1]]


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("goal", world.PAD_COLOURS)])
    cells = [(x, y) for x in range(CELLS) for y in range(CELLS)]
    while True:
        passages = carve(rng)
        floor = floor_mask(passages)
        walls = ~floor
        a, b = (cells[i] for i in rng.choice(len(cells), size=2, replace=False))
        route = cell_path(passages, a, b)
        if not 3 <= len(route) <= 5:
            continue
        waypoints = corners([cell_centre(c) for c in route])
        if len(waypoints) < 3 or not (swept_line(waypoints[0], waypoints[-1]) & dilate(walls, 1)).any():
            continue
        path = follow(waypoints)
        if path is None or motion_frames_of(path) < MIN_MOTION_FRAMES or (swept(path) & dilate(walls, 1)).any():
            continue
        break
    gx, gy = ORIGIN[b[0]], ORIGIN[b[1]]
    scene = world.paint(world.paint(world.blank(), walls, world.WALL), rect_at(gx, gy, CELL, CELL), col["goal"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc to the {col['goal']} square through the maze without touching the black walls."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region goal  = color("{world.PALETTE[col["goal"]]}") at start\n'
        + f'region walls = color("{world.PALETTE[world.WALL]}") at start\n\n'
        + "goal    reach    : at end inside(agent, goal)\n"
        + "process corridor : always inside(agent, not grow(walls, 1), frac=0.99)\n"
        + rules.agent_process()
        + "process scenery  : always unchanged(walls, tol=0.03) weight 0.5\n"
        + "process pad      : always unchanged(goal - grow(agent, 1)) weight 0.5\n"
    )
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {**{role: colour_info(c) for role, c in col.items()}, "walls": colour_info(world.WALL)},
        "positions": {"agent_start": centres([path[0]])[0], "goal_box": [gx, gy, gx + CELL, gy + CELL],
                      "start_cell": list(a), "goal_cell": list(b)},
        "maze": {"cells": CELLS, "passages": sorted(sorted(list(c) for c in p) for p in passages), "route": [list(c) for c in route]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions(waypoints)),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def score(inst: Instance, video: np.ndarray) -> Score:
    c = inst.metadata["colours"]
    s = Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))
    checks = {
        "goal_reached": s.ends_inside(s.region(world.hex_to_rgb(c["goal"]["hex"]))),
        "walls_untouched": s.never_touches(s.region(world.hex_to_rgb(c["walls"]["hex"]))),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"goal_reached": 2.0, "walls_untouched": 2.0})


def wall_block(inst: Instance) -> np.ndarray:
    """A block of wall (at least 30 pixels) away from the agent's path, to repaint."""
    walls = world.colour_mask(inst.first_frame, world.WALL)
    clear = ~dilate(swept(corrupt.agent_path(inst)), 2)
    for y in range(0, 25):
        for x in range(0, 25):
            block = rect_at(x, y, 8, 8) & walls & clear
            if block.sum() >= 30:
                return block
    return walls & clear


FAMILY = Family(
    NAME,
    "reach the goal cell through a 3x3 maze, never touching a wall",
    make,
    score,
    corrupt.common("goal_reached", wall_block)
    + (Corruption("wall_crossing", "walls_untouched", corrupt.straight_to_end),),
)
