"""The parts every reference rules file shares, filled with an instance's colours.

Each family's template states its goal and its own process rules; this module adds the
process rules every family needs against a weak model's shortcuts (the agent is always
there, keeps its size, moves continuously). The numbers mirror the scorer's bounds
(:mod:`rulec.runtime.tasks.scoring`) in normalized units, so the rules and the scorer
judge the same thing.
"""

from __future__ import annotations

from rulec.runtime.tasks.base import H
from rulec.runtime.tasks.scoring import AREA_BOUNDS, MAX_STEP_PX

#: Colour tolerance (Lab Delta E) of every detector: a little under half the smallest distance
#: between two palette colours (34.9, white-grey), so model videos' off-palette colours are
#: still found (the primitive's default, 12, loses pixels under +-12 RGB noise) and no
#: colour is taken for another.
COLOR_TOL = 16

#: The disc's area as a fraction of the frame (21 pixels of a 32x32 frame).
DISC_AREA = 21 / (H * H)


def header(family: str, prompt: str, agent_hex: str) -> str:
    return f'task {family} "{prompt}"\n\nobject agent = color("{agent_hex}", tol={COLOR_TOL})\n'


def agent_process() -> str:
    """Presence, size and continuity of the agent."""
    lo, hi = (round(b * DISC_AREA, 4) for b in AREA_BOUNDS)
    return (
        "process one    : always present(agent)\n"
        f"process size   : always (area(agent) > {lo} and area(agent) < {hi})\n"
        f"process steady : always speed(agent) < {round(MAX_STEP_PX / H, 4)}\n"
    )
