"""Navigate: move the agent disc onto a goal square in an open field.

Parameters: agent and goal colours, goal size (6 or 8 px), positions (at least 16 px,
8 frames at the training clips' top speed, apart). Solver: a straight line at constant speed, then rest on the goal.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    PAD_SIZES, Family, Instance, Score, centres, colour_info, disc, follow, pad_around,
    pick_colours, render, too_short, rng_for, segment_directions,
)
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "navigate"


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("goal", world.PAD_COLOURS)])
    while True:
        g = int(rng.choice(PAD_SIZES))
        start, target = rng.integers(2, 30, size=(2, 2))
        goal_mask, goal_box = pad_around(target, g)
        if (disc(start) & dilate(goal_mask, 2)).any() or goal_box[0] < 0 or goal_box[1] < 0 or max(goal_box[2:]) > 32:
            continue
        path = follow([start, target])
        if path is None or too_short([start, target]):
            continue
        break
    scene = world.paint(world.blank(), goal_mask, col["goal"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc onto the {col['goal']} square."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region goal = color("{world.PALETTE[col["goal"]]}", tol={rules.COLOR_TOL}) at start\n\n'
        + "goal    reach   : at end inside(agent, goal)\n"
        + rules.close_goal("goal")
        + rules.agent_process()
        + f"process scenery : always unchanged(goal - grow(agent, {rules.AROUND})) weight 0.5\n"
    )
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {role: colour_info(c) for role, c in col.items()},
        "positions": {"agent_start": centres([start])[0], "goal_box": goal_box, "goal_target": centres([target])[0]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions([start, target])),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def _scene(inst: Instance, video: np.ndarray) -> Scene:
    c = inst.metadata["colours"]
    return Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))


def score(inst: Instance, video: np.ndarray) -> Score:
    s = _scene(inst, video)
    goal = s.region(world.hex_to_rgb(inst.metadata["colours"]["goal"]["hex"]))
    checks = {"goal_reached": s.ends_inside(goal), **s.common_checks()}
    return Score.from_checks(checks, {"goal_reached": 2.0})


def _goal_region(inst: Instance) -> np.ndarray:
    return world.colour_mask(inst.first_frame, inst.metadata["colours"]["goal"]["name"])


FAMILY = Family(NAME, "move the disc onto the goal square (open field)", make, score, corrupt.common("goal_reached", _goal_region))
