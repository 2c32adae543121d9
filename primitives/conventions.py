"""Numeric conventions shared by the kernels and the generated docs (torch-free).

Every margin is signed (positive = holds) and scaled to about 1. These constants are
the one place where the scales and the defaults of keyword arguments live: the registry
declares its defaults from them, the kernels read them (a kernel's own default, kept for
direct calls, names the same constant), and ``docgen`` prints them into
``docs/primitives.md``.
"""

from __future__ import annotations

#: Value of a temporal operator over a window range that contains no frame:
#: ``always`` -> ``+EMPTY_MARGIN`` (vacuously true), ``eventually``/``until`` ->
#: ``-EMPTY_MARGIN`` (nothing happened). Finite, so no inf/NaN reaches values or
#: gradients, and symmetric, so ``not eventually A == always not A`` holds exactly.
EMPTY_MARGIN = 1.0

#: Total mask mass (in pixels) below which a mask counts as empty.
EMPTY_MASS = 1e-3

#: Centroid (x and y) of an empty mask: the frame centre.
EMPTY_CENTROID = 0.5

#: Scale of positional margins (left_of/right_of/above/below) and of ``lt``/``gt``
#: between two signals: a difference of a tenth of the frame gives a margin of 1.
POSITION_SCALE = 0.1

#: ``overlaps``/``touches``: fraction of the smaller mask's mass that must be shared.
OVERLAP_FRACTION = 0.05

#: Smooth norm sqrt(d^2 + eps^2) - eps for speed/distance (normalized units).
NORM_EPS = 1e-3

#: ``decreasing``: a rise smaller than this (normalized units per frame) still counts.
DECREASE_TOL = 0.002
#: ``decreasing``: a decrease of this much per frame gives a margin of about 1.
DECREASE_SCALE = 0.02

#: Smooth colour detector: sigmoid((tol - distance) / (tol / COLOR_SOFTNESS)).
COLOR_SOFTNESS = 4.0

#: Distance fields (``inside``/``overlaps`` margins, ``path_distance``) read regions as
#: binary: a pixel belongs to a region where its mask exceeds this.
FIELD_THRESHOLD = 0.5

#: ``inside``/``overlaps``/``touches`` below their threshold: the margin is multiplied by
#: ``1 + dbar / REACH_SCALE``, dbar the object's mass-weighted mean distance to the region
#: (normalized units), so it keeps falling with distance; half a frame away doubles it.
REACH_SCALE = 0.5

#: ``path_distance`` when there is nothing to reach (empty goal) or nothing to measure
#: (empty object): farther than any straight distance in the frame (sqrt 2).
EMPTY_PATH_DISTANCE = 2.0

# ---------------------------------------------------------------- defaults of keyword arguments
#: ``color(tol=...)``: the Lab distance (Delta E 76) that still counts as the colour.
COLOR_TOL = 12.0

#: ``inside(frac=...)``: the fraction of the object's mass that must lie in the region.
INSIDE_FRAC = 0.9

#: ``near(d=...)``: the distance threshold (normalized units).
NEAR_DISTANCE = 0.15

#: ``present(min_area=...)``: the smallest area (fraction of the frame) that counts as present.
PRESENT_AREA = 0.005

#: ``moving(v=...)`` and ``still(v=...)``: the speed that separates them, so that by default
#: ``still(o)`` is exactly ``not moving(o)``.
MOTION_SPEED = 0.01

#: ``unchanged(tol=...)``: the mean absolute RGB change (0..1) still allowed.
UNCHANGED_TOL = 0.1
