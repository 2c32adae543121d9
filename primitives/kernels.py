"""Registry name -> kernel. Call convention: ``kernel(sem, *implicit_inputs, *args)``
(see :mod:`rulec.primitives.registry`). ``ask`` is provided by the VQA adapter."""

from __future__ import annotations

from typing import Callable

from rulec.primitives import atoms, detectors, instances, logic, measures, morphology, temporal, tracks

KERNELS: dict[str, Callable] = {
    # detectors and region algebra
    "color": detectors.color,
    "box": detectors.box,
    "grow": morphology.grow,
    "shrink": morphology.shrink,
    "mask_not": detectors.mask_not,
    "mask_and": detectors.mask_and,
    "mask_or": detectors.mask_or,
    "mask_minus": detectors.mask_minus,
    "fill_holes": detectors.fill_holes,
    # measures
    "x": measures.x,
    "y": measures.y,
    "left_edge": measures.left_edge,
    "right_edge": measures.right_edge,
    "top_edge": measures.top_edge,
    "bottom_edge": measures.bottom_edge,
    "area": measures.area,
    "largest": instances.largest,
    "smallest": instances.smallest,
    "nth": instances.nth,
    "track": tracks.track,
    "speed": measures.speed,
    "distance": measures.distance,
    "path_distance": measures.path_distance,
    "components": measures.components,
    # atoms and comparisons
    "inside": atoms.inside,
    "overlaps": atoms.overlaps,
    "touches": atoms.touches,
    "near": atoms.near,
    "left_of": atoms.left_of,
    "right_of": atoms.right_of,
    "above": atoms.above,
    "below": atoms.below,
    "present": atoms.present,
    "moving": atoms.moving,
    "still": atoms.still,
    "unchanged": atoms.unchanged,
    "lt": atoms.lt,
    "gt": atoms.gt,
    "decreasing": atoms.decreasing,
    # logic
    "and": logic.and_,
    "or": logic.or_,
    "forall": logic.forall,
    "exists": logic.exists,
    "neg": logic.neg,
    # temporal
    "always": temporal.always,
    "eventually": temporal.eventually,
    "next": temporal.next_,
    "prev": temporal.prev,
    "at_start": temporal.at_start,
    "at_end": temporal.at_end,
    "until": temporal.until,
    "release": temporal.release,
}
