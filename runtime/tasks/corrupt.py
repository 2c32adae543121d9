"""Ways to spoil a ground-truth video, each aimed at one named sub-check.

They stand in for what a weak model does wrong (teleports, smears, vanishing or
duplicated agents, stopping short, repainting the scenery) and validate two things: the
scorer catches each mistake on the sub-check it names, and the compiled rules agree.
Family-specific corruptions (wall crossing, wrong order, moving what must stay still)
live with their families and use the helpers here.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.tasks.base import Corruption, Instance, T, disc, follow, render, swept
from rulec.runtime.tasks.scoring import dilate

HALF = T // 2


def agent_colour(inst: Instance) -> str:
    return inst.metadata["colours"]["agent"]["name"]


def agent_path(inst: Instance) -> np.ndarray:
    """The solution's pixel positions ``(T, 2)`` (metadata stores pixel centres)."""
    return np.floor(np.asarray(inst.metadata["solution_path"], dtype=float)).astype(int)


def empty_scene(inst: Instance) -> np.ndarray:
    """The first frame without the agent: what stays when it moves away."""
    return world.paint(inst.first_frame, world.colour_mask(inst.first_frame, agent_colour(inst)), world.BACKGROUND)


def with_path(inst: Instance, path: np.ndarray, scene: np.ndarray | None = None) -> np.ndarray:
    """The instance's scene with the agent following another path."""
    return render(empty_scene(inst) if scene is None else scene, [(agent_colour(inst), path)])


def straight_to_end(inst: Instance) -> np.ndarray:
    """The agent goes straight from its start to the solution's end (ignoring all rules)."""
    path = agent_path(inst)
    straight = follow([path[0], path[-1]], motion_frames=len(path) - 2)
    return with_path(inst, straight)


def stop_short(inst: Instance) -> np.ndarray:
    """The agent halts half-way along the solution."""
    path = agent_path(inst)
    moving = np.nonzero(np.any(np.diff(path, axis=0) != 0, axis=1))[0]
    k = int(moving[len(moving) // 2])
    return with_path(inst, path[np.minimum(np.arange(len(path)), k)])


def teleport(inst: Instance) -> np.ndarray:
    """The agent waits at the start, then appears at the end without crossing the space between."""
    path = agent_path(inst)
    jump = np.where(np.arange(len(path))[:, None] < HALF, path[0], path[-1])
    return with_path(inst, jump)


def vanish(inst: Instance) -> np.ndarray:
    """The agent disappears for a few frames in the middle."""
    video = inst.ground_truth.copy()
    scene = empty_scene(inst)
    video[HALF - 3 : HALF + 1] = scene
    return video


def _free_spot(inst: Instance) -> np.ndarray:
    """A disc position clear of the scenery and of the agent's second half (for a duplicate)."""
    path = agent_path(inst)
    scenery = ~world.colour_mask(empty_scene(inst), world.BACKGROUND)
    busy = dilate(swept(path[HALF:]), 2) | scenery
    h = inst.first_frame.shape[0]
    for p in [path[0]] + [np.array([x, y]) for y in range(2, h - 2) for x in range(2, h - 2)]:
        if not (disc(p) & busy).any():
            return p
    raise RuntimeError(f"{inst.name}: no free spot for a duplicate")


def duplicate(inst: Instance) -> np.ndarray:
    """A second copy of the agent appears from the middle of the video on."""
    video = inst.ground_truth.copy()
    spot = disc(_free_spot(inst))
    video[HALF:, spot] = world.rgb(agent_colour(inst))
    return video


def smear(inst: Instance) -> np.ndarray:
    """The agent leaves a trail of its colour behind (its blob grows along the path)."""
    path = agent_path(inst)
    video = inst.ground_truth.copy()
    colour = world.rgb(agent_colour(inst))
    trail = np.zeros(inst.first_frame.shape[:2], dtype=bool)
    for t in range(len(path)):
        trail |= disc(path[t])
        video[t, trail] = colour
    return video


def repaint(inst: Instance, region: np.ndarray, colour: str = world.BACKGROUND) -> np.ndarray:
    """Scenery pixels repainted from the middle of the video on (the agent stays on top)."""
    video = inst.ground_truth.copy()
    agent = world.colour_mask(video, agent_colour(inst))
    change = region[None] & ~agent
    change[:HALF] = False
    video[change] = world.rgb(colour)
    return video


def common(goal_check: str, repaint_region) -> tuple[Corruption, ...]:
    """The corruptions every family has; ``repaint_region(inst)`` picks the scenery to repaint."""
    return (
        Corruption("stop_short", goal_check, stop_short),
        Corruption("teleport", "continuous", teleport),
        Corruption("vanish", "agent_single", vanish),
        Corruption("duplicate", "agent_single", duplicate),
        Corruption("smear", "agent_size", smear),
        Corruption("scenery_repainted", "scenery_unchanged", lambda inst: repaint(inst, repaint_region(inst))),
    )
