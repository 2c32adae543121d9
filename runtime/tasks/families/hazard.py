"""Hazard: reach the goal while going around a hazard block that lies on the straight line.

Parameters: agent, goal and hazard colours; start and goal positions (18 to 28 px apart);
the hazard's size (4 to 7 px a side), centred on the midpoint so that the straight line
always crosses it. Solver: one detour waypoint beside the hazard (the nearest clear one,
on a side chosen by the seed), then on to the goal.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    PAD_SIZES, Corruption, Family, Instance, Score, centres, colour_info, disc, follow, pad_around,
    pick_colours, rect_at, too_short, render, rng_for, segment_directions, swept, swept_line,
)
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "hazard"


def _detour(rng, start, target, hazard):
    """Positions around the hazard: the smallest sideways offset of the midpoint that is clear."""
    d = (target - start).astype(float)
    normal = np.array([-d[1], d[0]]) / np.hypot(*d)
    sides = (1, -1) if rng.random() < 0.5 else (-1, 1)
    mid = (start + target) / 2.0
    keep_out = dilate(hazard, 1)
    for off in np.arange(3.0, 16.0, 1.0):
        for side in sides:
            w = np.rint(mid + side * off * normal).astype(int)
            if not (2 <= w[0] <= 29 and 2 <= w[1] <= 29):
                continue
            path = follow([start, w, target])
            if path is not None and not (swept(path) & keep_out).any():
                return w, path
    return None, None


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("goal", world.PAD_COLOURS), ("hazard", world.PAD_COLOURS)])
    while True:
        start = rng.integers(2, 30, size=2)
        target = rng.integers(3, 29, size=2)
        if not 18 <= np.hypot(*(target - start)) <= 28:
            continue
        goal, goal_box = pad_around(target, int(rng.choice(PAD_SIZES)))
        if goal_box[0] < 0 or goal_box[1] < 0 or max(goal_box[2:]) > 32:
            continue
        hw, hh = (int(v) for v in rng.integers(4, 8, size=2))
        mid = np.rint((start + target) / 2.0).astype(int)
        hazard = rect_at(mid[0] - hw // 2, mid[1] - hh // 2, hw, hh)
        if (dilate(hazard, 3) & (goal | disc(start))).any() or (disc(start) & dilate(goal, 2)).any():
            continue
        if not (swept_line(start, target) & hazard).any():
            continue
        w, path = _detour(rng, start, target, hazard)
        if path is None or too_short([start, w, target]):
            continue
        break
    scene = world.paint(world.paint(world.blank(), goal, col["goal"]), hazard, col["hazard"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc onto the {col['goal']} square without touching the {col['hazard']} block."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region goal   = color("{world.PALETTE[col["goal"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f'region hazard = color("{world.PALETTE[col["hazard"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f"region clear  = not grow(hazard, {rules.CONTACT})\n\n"
        + "goal    reach   : at end inside(agent, goal)\n"
        + rules.close_goal("goal", "clear")
        + "process avoid   : always inside(agent, clear, frac=0.99)\n"
        + rules.agent_process()
        + f"process scenery : always (unchanged(hazard) and unchanged(goal - grow(agent, {rules.AROUND}))) weight 0.5\n"
    )
    ys, xs = np.nonzero(hazard)
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {role: colour_info(c) for role, c in col.items()},
        "positions": {"agent_start": centres([start])[0], "goal_box": goal_box, "goal_target": centres([target])[0],
                      "hazard_box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
                      "detour": centres([w])[0]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions([start, w, target])),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def score(inst: Instance, video: np.ndarray) -> Score:
    c = inst.metadata["colours"]
    s = Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))
    checks = {
        "goal_reached": s.ends_inside(s.region(world.hex_to_rgb(c["goal"]["hex"]))),
        "hazard_avoided": s.never_touches(s.region(world.hex_to_rgb(c["hazard"]["hex"]))),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"goal_reached": 2.0, "hazard_avoided": 2.0})


def _hazard_region(inst: Instance) -> np.ndarray:
    return world.colour_mask(inst.first_frame, inst.metadata["colours"]["hazard"]["name"])


FAMILY = Family(
    NAME,
    "reach the goal, going around the hazard on the straight line",
    make,
    score,
    corrupt.common("goal_reached", _hazard_region)
    + (Corruption("hazard_crossing", "hazard_avoided", corrupt.straight_to_end),),
)
