"""The parts every reference rules file shares, filled with an instance's colours.

Each family's template states its goal and its own process rules; this module adds the
process rules every family needs against a weak model's shortcuts (the agent is always
there, keeps its size, moves continuously) and the distance-shaped goal that pulls the
agent towards a pad from anywhere in the frame (:func:`close_goal`). The numbers mirror the scorer's bounds
(:mod:`rulec.runtime.tasks.scoring`) in normalized units, so the rules and the scorer
judge the same thing.
"""

from __future__ import annotations

from rulec.runtime.tasks.base import H, PAD_SIZES
from rulec.runtime.tasks.scoring import AREA_BOUNDS, MAX_STEP_PX

#: Colour tolerance (Lab Delta E) of every detector: a little under half the smallest distance
#: between two palette colours (34.9, white-grey), so model videos' off-palette colours are
#: still found (the primitive's default, 12, loses pixels under +-12 RGB noise) and no
#: colour is taken for another.
COLOR_TOL = 16

#: The disc's area as a fraction of the frame (21 pixels of a 32x32 frame).
DISC_AREA = 21 / (H * H)


#: Radii in frame units, so a rule reads the same on the 32x32 video and on the same scene drawn
#: at 256 or 1024 px: ``grow(agent, AROUND)`` is the agent's surroundings, which a scenery rule
#: leaves out (its edge pixels and a codec's chroma blur around it: 2 px at 32 px);
#: ``grow(hazard, CONTACT)`` is pixel-strict contact at 32 px (1 px); ``shrink(floor, CLEARANCE)``
#: is the free space the agent's centre may use (2 px at 32 px, the disc's radius).
AROUND = 0.06
CONTACT = 0.03
CLEARANCE = 0.06

#: ``at end distance(agent, pad) < END_DISTANCE`` beside ``inside(agent, pad)``: a goal that
#: pulls from anywhere (a straight centroid distance) and that every end the scorer accepts
#: passes. On the largest pad (8 px) a 5-px disc keeps 90 % of its pixels on it up to 1.5 px
#: off centre on each axis (2 px puts a 3-px column off it), 2.1 px diagonally; 2.6 px allowed.
END_DISTANCE = round(((max(PAD_SIZES) - 5) / 2 * 2**0.5 + 0.5) / H, 2)

#: ``at end path_distance(agent, pad, free) < END_PATH_DISTANCE``: the same goal through free
#: space. The value is the mean distance of the agent's pixels to the pad (0 on it); an end the
#: scorer accepts has at most 10 % of them off the pad, a few pixels away: well under 1.6 px.
END_PATH_DISTANCE = 0.05


def close_goal(target: str, free: str | None = None) -> str:
    """The distance-shaped goal for a pad: straight in the open, along ``free`` where walls are in the way."""
    if free is None:
        return f"goal    close   : at end distance(agent, {target}) < {END_DISTANCE}\n"
    return f"goal    close   : at end path_distance(agent, {target}, {free}) < {END_PATH_DISTANCE}\n"


def visit_goal(target: str) -> str:
    """The distance-shaped visit of a pad on the way: ``then`` alone says little about how far the
    agent passes from the pad, this pulls the closest frame of the path onto it."""
    return f"goal    visit   : eventually distance(agent, {target}) < {END_DISTANCE}\n"


def header(family: str, prompt: str, agent_hex: str) -> str:
    return f'task {family} "{prompt}"\n\nobject agent = color("{agent_hex}", tol={COLOR_TOL})\n'


def agent_process() -> str:
    """Presence, size and continuity of the agent: its size at least ``AREA_BOUNDS[0]`` of its
    own frame-0 area (relative, so a codec's frayed edges shrink both alike), at most
    ``AREA_BOUNDS[1]`` of the disc's."""
    lo, hi = AREA_BOUNDS[0], round(AREA_BOUNDS[1] * DISC_AREA, 4)
    return (
        "process one    : always present(agent)\n"
        f"process size   : always (present(agent, frac={lo}) and area(agent) < {hi})\n"
        f"process steady : always speed(agent) < {round(MAX_STEP_PX / H, 4)}\n"
    )
