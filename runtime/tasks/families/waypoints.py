"""Waypoints: visit the first pad, then the second, and stop on the second.

Parameters: agent and two pad colours, positions (pads 6 or 8 px; the straight line from the
start to the second pad misses the first, so skipping it or reversing the order is
visible, and the way to the first pad misses the second). Solver: straight to the first pad, then straight to the second.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    PAD_SIZES, Corruption, Family, Instance, Score, centres, colour_info, disc, follow, pad_around,
    pick_colours, render, too_short, rng_for, segment_directions, swept_line,
)
from rulec.runtime.tasks.scoring import Scene, dilate, inside

NAME = "waypoints"


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("first", world.PAD_COLOURS), ("second", world.PAD_COLOURS)])
    while True:
        start = rng.integers(2, 30, size=2)
        p1, p2 = rng.integers(3, 29, size=(2, 2))
        (pad1, box1), (pad2, box2) = (pad_around(p, int(rng.choice(PAD_SIZES))) for p in (p1, p2))
        if min(box1[:2] + box2[:2]) < 0 or max(box1[2:] + box2[2:]) > 32:
            continue
        start_disc = disc(start)
        if (dilate(pad1, 2) & (pad2 | start_disc)).any() or (dilate(pad2, 2) & start_disc).any():
            continue
        if (swept_line(start, p2) & dilate(pad1, 1)).any() or (swept_line(start, p1) & dilate(pad2, 1)).any():
            continue
        path = follow([start, p1, p2])
        if path is None or too_short([start, p1, p2]) or follow([start, p2, p1]) is None:
            continue
        break
    scene = world.paint(world.paint(world.blank(), pad1, col["first"]), pad2, col["second"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc to the {col['first']} square, then to the {col['second']} square, and stop there."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region first  = color("{world.PALETTE[col["first"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f'region second = color("{world.PALETTE[col["second"]]}", tol={rules.COLOR_TOL}) at start\n\n'
        + rules.visit_goal("first")
        + "goal    order   : inside(agent, first) then inside(agent, second)\n"
        + "goal    stop    : at end inside(agent, second)\n"
        + rules.close_goal("second")
        + rules.agent_process()
        + f"process scenery : always (unchanged(first - grow(agent, {rules.AROUND})) and unchanged(second - grow(agent, {rules.AROUND}))) weight 0.5\n"
    )
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {role: colour_info(c) for role, c in col.items()},
        "positions": {"agent_start": centres([start])[0], "first_box": box1, "second_box": box2,
                      "first_target": centres([p1])[0], "second_target": centres([p2])[0]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions([start, p1, p2])),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def score(inst: Instance, video: np.ndarray) -> Score:
    c = inst.metadata["colours"]
    s = Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))
    first = s.region(world.hex_to_rgb(c["first"]["hex"]))
    second = s.region(world.hex_to_rgb(c["second"]["hex"]))
    on_first = np.array([inside(m, first) for m in s.agent.mask])
    on_second = np.array([inside(m, second) for m in s.agent.mask])
    visited = np.nonzero(on_first)[0]
    checks = {
        "first_visited": bool(len(visited)),
        "order_kept": bool(len(visited) and on_second[visited[0] + 1 :].any()),
        "goal_reached": bool(on_second[-1]),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"first_visited": 1.5, "order_kept": 1.5, "goal_reached": 2.0})


def wrong_order(inst: Instance) -> np.ndarray:
    """Second pad first, then the first pad (and stop there)."""
    m = inst.metadata["positions"]
    p1 = np.floor(m["first_target"]).astype(int)
    p2 = np.floor(m["second_target"]).astype(int)
    return corrupt.with_path(inst, follow([corrupt.agent_path(inst)[0], p2, p1]))


def _first_region(inst: Instance) -> np.ndarray:
    return world.colour_mask(inst.first_frame, inst.metadata["colours"]["first"]["name"])


FAMILY = Family(
    NAME,
    "visit the first pad, then the second, and stop on it",
    make,
    score,
    corrupt.common("goal_reached", _first_region)
    + (
        Corruption("wrong_order", "order_kept", wrong_order),
        Corruption("skip_first", "first_visited", corrupt.straight_to_end),
    ),
)
