"""Place: move the disc until it touches the target square; the other squares stay put.

The "push/move one object next to another" family. Parameters: agent, target and
distractor colours, square sizes (5 to 8 px), positions. Solver: straight to the nearest
side of the target from which the way is clear, stopping with the disc's edge one pixel
from the target (touching, not overlapping).
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks import corrupt, rules
from rulec.runtime.tasks.base import (
    Corruption, Family, Instance, Score, centres, colour_info, disc, follow, too_short,
    pick_colours, rect_at, render, rng_for, segment_directions, swept,
)
from rulec.runtime.tasks.corrupt import HALF
from rulec.runtime.tasks.scoring import Scene, dilate

NAME = "place"


def _square(rng):
    w, h = (int(v) for v in rng.integers(5, 9, size=2))
    x, y = (int(v) for v in rng.integers(1, 31 - 8, size=2))
    return x, y, w, h


def _beside(x, y, w, h):
    """Disc positions touching each side of a box (left, right, top, bottom)."""
    return [np.array(p) for p in ((x - 3, y + h // 2), (x + w + 2, y + h // 2), (x + w // 2, y - 3), (x + w // 2, y + h + 2))]


def make(seed: int) -> Instance:
    rng = rng_for(NAME, seed)
    col = pick_colours(rng, [("agent", world.AGENT_COLOURS), ("target", world.PAD_COLOURS), ("other", world.PAD_COLOURS)])
    while True:
        tb, ob = _square(rng), _square(rng)
        target, other = rect_at(*tb), rect_at(*ob)
        start = rng.integers(2, 30, size=2)
        if (dilate(target, 3) & other).any() or (dilate(target | other, 3) & disc(start)).any():
            continue
        ends = sorted(_beside(*tb), key=lambda e: float(np.hypot(*(e - start))))
        path = None
        for end in ends:
            if not (2 <= end[0] <= 29 and 2 <= end[1] <= 29):
                continue
            cand = follow([start, end])
            if cand is None or too_short([start, end]):
                continue
            if (swept(cand) & (target | dilate(other, 2))).any():
                continue
            far = [q for q in cand if np.hypot(*(q - end)) >= 5]
            if (swept(np.array(far)) & dilate(target, 2)).any():  # touch it only on arrival
                continue
            path = cand
            break
        if path is not None:
            break
    scene = world.paint(world.paint(world.blank(), target, col["target"]), other, col["other"])
    video = render(scene, [(col["agent"], path)])
    prompt = f"Move the {col['agent']} disc until it touches the {col['target']} square; leave the {col['other']} square where it is."
    text = (
        rules.header(NAME, prompt, world.PALETTE[col["agent"]])
        + f'region target = color("{world.PALETTE[col["target"]]}", tol={rules.COLOR_TOL}) at start\n'
        + f'region other  = color("{world.PALETTE[col["other"]]}", tol={rules.COLOR_TOL}) at start\n\n'
        + "goal    next    : at end touches(agent, target)\n"
        + "process apart   : always inside(agent, not (target or other), frac=0.99)\n"
        + rules.agent_process()
        + "process stay    : always (unchanged(target) and unchanged(other))\n"
    )
    box = lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]
    meta = {
        "family": NAME,
        "seed": seed,
        "colours": {role: colour_info(c) for role, c in col.items()},
        "positions": {"agent_start": centres([start])[0], "target_box": box(tb), "other_box": box(ob), "agent_end": centres([path[-1]])[0]},
        "solution_path": centres(path),
        "plan_caption": world.caption(col["agent"], segment_directions([path[0], path[-1]])),
    }
    return Instance(NAME, seed, video[0], prompt, video, text, meta)


def score(inst: Instance, video: np.ndarray) -> Score:
    c = inst.metadata["colours"]
    s = Scene(inst.first_frame, video, world.hex_to_rgb(c["agent"]["hex"]), world.rgb(world.BACKGROUND))
    target = s.region(world.hex_to_rgb(c["target"]["hex"]))
    other = s.region(world.hex_to_rgb(c["other"]["hex"]))
    last = s.agent.mask[-1]
    checks = {
        "next_to_target": bool((last & dilate(target, 1)).sum() >= 2 and not (last & target).any()),
        "no_overlap": not bool((s.agent.mask & (target | other)[None]).any()),
        "others_unchanged": s.region_unchanged(target) and s.region_unchanged(other),
        **s.common_checks(),
    }
    return Score.from_checks(checks, {"next_to_target": 2.0, "others_unchanged": 1.5})


def _box_centre(inst: Instance, key: str) -> np.ndarray:
    x0, y0, x1, y1 = inst.metadata["positions"][key]
    return np.array([(x0 + x1) // 2, (y0 + y1) // 2])


def target_moved(inst: Instance) -> np.ndarray:
    """The target square slides away by a pixel a frame for a few frames."""
    c = inst.metadata["colours"]
    x0, y0, x1, y1 = inst.metadata["positions"]["target_box"]
    scene = world.paint(corrupt.empty_scene(inst), rect_at(x0, y0, x1 - x0, y1 - y0), world.BACKGROUND)
    path = corrupt.agent_path(inst)
    away = np.sign(np.array([x0, y0]) - path[0] + 0.1).astype(int)
    frames = []
    for t in range(len(path)):
        k = min(max(t - HALF + 3, 0), 4)
        moved = rect_at(x0 + k * away[0], y0 + k * away[1], x1 - x0, y1 - y0)
        f = world.paint(scene, moved, c["target"]["name"])
        frames.append(world.paint(f, disc(path[t]), c["agent"]["name"]))
    return np.stack(frames)


def overlap(inst: Instance) -> np.ndarray:
    """The disc goes onto the target instead of stopping beside it."""
    path = corrupt.agent_path(inst)
    return corrupt.with_path(inst, follow([path[0], _box_centre(inst, "target_box")]))


def _other_region(inst: Instance) -> np.ndarray:
    return world.colour_mask(inst.first_frame, inst.metadata["colours"]["other"]["name"])


FAMILY = Family(
    NAME,
    "move the disc until it touches the target square; the other square stays put",
    make,
    score,
    corrupt.common("next_to_target", _other_region)
    + (Corruption("target_moved", "others_unchanged", target_moved), Corruption("overlap", "no_overlap", overlap)),
)
