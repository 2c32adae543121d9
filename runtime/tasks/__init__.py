"""The procedural task suite: seeded families with known answers and independent scorers.

``make_instance(family, seed)`` builds an :class:`Instance` (first frame, prompt, ground
truth video from the family's solver, reference rules in the DSL, metadata);
``score(inst, video)`` judges any video with the family's plain-numpy scorer;
``corruptions(inst)`` spoils the ground truth in the ways a weak model does.
"""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks.base import Corruption, Family, Instance, Score
from rulec.runtime.tasks.families import card_swap, hazard, maze, navigate, place, return_home, sort_by_size, still, waypoints
from rulec.runtime.tasks.folder import InstanceError, load_instance, write_instance

#: The six 32x32 families the embedded models, the benchmark and TTO work on.
FAMILIES: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in (navigate, maze, hazard, waypoints, place, still)}
#: The realistic validation families (issue #20): 256-1024 px, 64-80 frames, anti-aliased and
#: outlined shapes, same-colour objects, occlusion; judged lossless and through an H.264 mp4.
#: Kept apart from :data:`FAMILIES`, whose users assume the 32x32 world.
REALISTIC: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in (return_home, sort_by_size, card_swap)}
#: Every family by name (what :func:`family`, :func:`make_instance` and the loader accept).
ALL_FAMILIES: dict[str, Family] = {**FAMILIES, **REALISTIC}


def family(name: str) -> Family:
    if name not in ALL_FAMILIES:
        raise KeyError(f"unknown task family {name!r}; known: {', '.join(ALL_FAMILIES)}")
    return ALL_FAMILIES[name]


def make_instance(family_name: str, seed: int) -> Instance:
    """The instance of a family for a seed (the same seed gives the same instance)."""
    return family(family_name).make(int(seed))


def score(inst: Instance, video: np.ndarray) -> Score:
    """Judge a ``(T, H, W, 3)`` uint8 video with the instance's family scorer."""
    video = np.asarray(video)
    if video.dtype != np.uint8:
        raise ValueError(f"expected a uint8 video, got {video.dtype}")
    return family(inst.family).score(inst, video)


def corruption_list(inst: Instance) -> tuple[Corruption, ...]:
    """The family's corruptions, each naming the sub-check it must break."""
    return family(inst.family).corruptions


def corruptions(inst: Instance) -> dict[str, np.ndarray]:
    """Spoiled versions of the ground truth, by corruption name."""
    return {c.name: c.make(inst) for c in corruption_list(inst)}


__all__ = [
    "ALL_FAMILIES", "FAMILIES", "REALISTIC", "Corruption", "Family", "Instance", "InstanceError", "Score",
    "corruption_list", "corruptions", "family", "load_instance", "make_instance", "score", "write_instance",
]
