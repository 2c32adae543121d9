"""Still: move one disc onto the goal while a second disc stays exactly where it is.

Parameters: mover, still-disc and goal colours; positions (the still disc sits 5 to 9 px
to one side of the mover's straight route, never touching it). Solver: straight to the
goal; the still disc is part of the scenery.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    PAD_SIZES, Corruption, Family, Instance, Score, centres, colour_info, disc, follow, pad_around,
    pick_colours, too_short, render, rng_for, segment_directions, swept,
)
from rulec.runtime.tasks.corrupt import HALF
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "still"


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("other", world.AGENT_COLOURS), ("goal", world.PAD_COLOURS)])
    while True:
        start = rng.integers(2, 30, size=2)
        target = rng.integers(3, 29, size=2)
        goal, goal_box = pad_around(target, int(rng.choice(PAD_SIZES)))
        if (disc(start) & dilate(goal, 2)).any() or goal_box[0] < 0 or goal_box[1] < 0 or max(goal_box[2:]) > 32:
            continue
        path = follow([start, target])
        if path is None or too_short([start, target]):
            continue
        d = (target - start).astype(float)
        normal = np.array([-d[1], d[0]]) / np.hypot(*d)
        along = rng.uniform(0.3, 0.7)
        other_pos = np.rint(start + along * d + rng.choice([-1, 1]) * rng.uniform(5, 9) * normal).astype(int)
        if not (2 <= other_pos[0] <= 29 and 2 <= other_pos[1] <= 29):
            continue
        other = disc(other_pos)
        if (dilate(other, 2) & (swept(path) | goal)).any():
            continue
        break
    scene = world.paint(world.paint(world.blank(), goal, col["goal"]), other, col["other"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc onto the {col['goal']} square; the {col['other']} disc must not move."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'object other = color("{world.PALETTE[col["other"]]}", tol={rules.COLOR_TOL})\n'
        + f'region spot  = color("{world.PALETTE[col["other"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f'region goal  = color("{world.PALETTE[col["goal"]]}", tol={rules.COLOR_TOL}) at start\n\n'
        + "goal    reach   : at end inside(agent, goal)\n"
        + rules.close_goal("goal")
        + "process hold    : always (still(other) and unchanged(spot))\n"
        + f"process apart   : always inside(agent, not grow(spot, {rules.CONTACT}), frac=0.99)\n"
        + rules.agent_process()
        + f"process scenery : always unchanged(goal - grow(agent, {rules.AROUND})) weight 0.5\n"
    )
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {role: colour_info(c) for role, c in col.items()},
        "positions": {"agent_start": centres([start])[0], "other": centres([other_pos])[0],
                      "goal_box": goal_box, "goal_target": centres([target])[0]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions([start, target])),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def score(inst: Instance, video: np.ndarray) -> Score:
    c = inst.metadata["colours"]
    s = Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))
    other = s.region(world.hex_to_rgb(c["other"]["hex"]))
    checks = {
        "goal_reached": s.ends_inside(s.region(world.hex_to_rgb(c["goal"]["hex"]))),
        "other_still": s.region_unchanged(other),
        "no_collision": s.never_touches(other),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"goal_reached": 2.0, "other_still": 2.0})


def other_moves(inst: Instance) -> np.ndarray:
    """The disc that must stay still drifts away for a few frames."""
    c = inst.metadata["colours"]
    pos = np.floor(np.asarray(inst.metadata["positions"]["other"])).astype(int)
    scene = world.paint(corrupt.empty_scene(inst), disc(pos), world.BACKGROUND)
    path = corrupt.agent_path(inst)
    step = np.sign(pos - path[-1] + 0.1).astype(int)  # away from where the mover ends
    frames = []
    for t in range(len(path)):
        k = min(max(t - HALF + 3, 0), 4)
        f = world.paint(scene, disc(pos + k * step), c["other"]["name"])
        frames.append(world.paint(f, disc(path[t]), c["agent"]["name"]))
    return np.stack(frames)


def _goal_region(inst: Instance) -> np.ndarray:
    return world.colour_mask(inst.first_frame, inst.metadata["colours"]["goal"]["name"])


FAMILY = Family(
    NAME,
    "move one disc onto the goal while the second disc stays still",
    make,
    score,
    corrupt.common("goal_reached", _goal_region) + (Corruption("other_moves", "other_still", other_moves),),
)
