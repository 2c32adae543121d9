"""Maze: reach the goal cell through the corridors of a 4x4 maze without crossing a wall.

Drawn like the training clips' mazes (``runtime/models/clips.py``): 8-px cells, 2-px walls on
the cell borders (no outer wall), corridors 6 px wide, so the disc passes within a pixel
of the walls (touching them is normal; overlapping them is not). Parameters: agent and
goal colours, the maze (a random spanning tree of the cells, lightly braided), start and
goal cells 3 to 5 moves apart with at least one turn and with the straight line between
them crossing a wall. Solver: the shortest cell route, along cell centres.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    Corruption, Family, Instance, Score, centres, colour_info, follow, pick_colours, rect_at, render, rng_for,
    segment_directions, swept, swept_line, too_short,
)
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "maze"
CELLS = 4
CELL = 8  # cell pitch, as in the training clips
GOAL_PAD = 6  # the goal fills the cell's corridor
BRAID = 0.2  # chance that a wall left by the spanning tree is opened anyway


def cell_centre(c) -> np.ndarray:
    """Pixel the disc sits on in cell (column, row), as the clips snap it."""
    return np.array([c[0] * CELL + CELL // 2, c[1] * CELL + CELL // 2])


def carve(rng: np.random.Generator) -> set[frozenset]:
    """Open passages: a random spanning tree (depth-first search) plus a few braids."""
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
    for x in range(CELLS):
        for y in range(CELLS):
            for n in ((x + 1, y), (x, y + 1)):
                if n[0] < CELLS and n[1] < CELLS and rng.random() < BRAID:
                    passages.add(frozenset([(x, y), n]))
    return passages


def wall_mask(passages: set[frozenset]) -> np.ndarray:
    """2-px walls on every closed border between cells, 1 px longer at each end (as the clips draw them)."""
    m = np.zeros((32, 32), dtype=bool)
    for x in range(CELLS):
        for y in range(CELLS):
            if x + 1 < CELLS and frozenset([(x, y), (x + 1, y)]) not in passages:
                bx = (x + 1) * CELL
                m |= world.rect_mask(32, bx - 1, y * CELL - 1, bx + 1, (y + 1) * CELL + 1)
            if y + 1 < CELLS and frozenset([(x, y), (x, y + 1)]) not in passages:
                by = (y + 1) * CELL
                m |= world.rect_mask(32, x * CELL - 1, by - 1, (x + 1) * CELL + 1, by + 1)
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
        walls = wall_mask(passages)
        a, b = (cells[i] for i in rng.choice(len(cells), size=2, replace=False))
        route = cell_path(passages, a, b)
        if not 4 <= len(route) <= 6:
            continue
        waypoints = corners([cell_centre(c) for c in route])
        if len(waypoints) < 3 or not (swept_line(waypoints[0], waypoints[-1]) & walls).any():
            continue
        path = follow(waypoints)
        if path is None or too_short(waypoints) or (swept(path) & walls).any():
            continue
        break
    gx, gy = b[0] * CELL + (CELL - GOAL_PAD) // 2, b[1] * CELL + (CELL - GOAL_PAD) // 2
    scene = world.paint(world.paint(world.blank(), rect_at(gx, gy, GOAL_PAD, GOAL_PAD), col["goal"]), walls, world.WALL)
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc to the {col['goal']} square through the maze without crossing the black walls."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region goal  = color("{world.PALETTE[col["goal"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f'region walls = color("{world.PALETTE[world.WALL]}", tol={rules.COLOR_TOL}) at start\n'
        + "region floor = not walls\n\n"
        + "goal    reach    : at end inside(agent, goal)\n"
        + rules.close_goal("goal", "floor")
        + "process corridor : always inside(agent, floor, frac=0.99)\n"
        + f"process toward   : progress path_distance(agent, goal, shrink(floor, {rules.CLEARANCE}))\n"
        + rules.agent_process()
        + "process scenery  : always unchanged(walls, tol=0.03) weight 0.5\n"
        + f"process pad      : always unchanged(goal - grow(agent, {rules.AROUND})) weight 0.5\n"
    )
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {**{role: colour_info(c) for role, c in col.items()}, "walls": colour_info(world.WALL)},
        "positions": {"agent_start": centres([path[0]])[0], "goal_box": [gx, gy, gx + GOAL_PAD, gy + GOAL_PAD],
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
        "walls_avoided": not bool((s.agent.mask & s.region(world.hex_to_rgb(c["walls"]["hex"]))[None]).any()),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"goal_reached": 2.0, "walls_avoided": 2.0})


def wall_block(inst: Instance) -> np.ndarray:
    """The 10x10 block holding the most wall pixels away from the agent's path, to repaint."""
    walls = world.colour_mask(inst.first_frame, world.WALL) & ~dilate(swept(corrupt.agent_path(inst)), 2)
    blocks = [rect_at(x, y, 10, 10) & walls for y in range(0, 23) for x in range(0, 23)]
    return max(blocks, key=lambda m: int(m.sum()))


FAMILY = Family(
    NAME,
    "reach the goal cell through a 4x4 maze, never crossing a wall",
    make,
    score,
    corrupt.common("goal_reached", wall_block)
    + (Corruption("wall_crossing", "walls_avoided", corrupt.straight_to_end),),
)
