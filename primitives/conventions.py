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
COLOR_TOL = 20.0

#: ``inside(frac=...)``: the fraction of the object's mass that must lie in the region.
INSIDE_FRAC = 0.9

#: ``near(d=...)``: the distance threshold (normalized units).
NEAR_DISTANCE = 0.15

#: ``present(frac=...)``: by default an object is present while its area is at least this
#: fraction of its area in frame 0 (so a codec-frayed or half-occluded object still counts).
PRESENT_FRAC = 0.5

#: ``present``: an object covering fewer pixels than this in frame 0 (absent there) is compared
#: with the absolute ``PRESENT_AREA`` instead.
PRESENT_PIXELS = 4

#: ``present(min_area=...)`` given explicitly (> 0), or the object absent in frame 0: the
#: smallest area (fraction of the frame) that counts as present.
PRESENT_AREA = 0.005

#: ``moving(v=...)`` and ``still(v=...)``: the speed that separates them, so that by default
#: ``still(o)`` is exactly ``not moving(o)``.
MOTION_SPEED = 0.01

#: ``touches(o, r)`` is ``overlaps(o, grow(r, TOUCH_RADIUS))``: contact within this distance
#: (frame units; 1 px at 32 px). In frame units, not pixels, because at 256 or 1024 px two
#: objects in contact are seldom adjacent pixel for pixel: anti-aliased dark outlines (a few
#: pixels at any size) lie between their fills, and a 1-px band would also hold far below the
#: overlap share of a large object.
TOUCH_RADIUS = 0.03

#: ``unchanged(tol=...)``: the share of the region's pixels that may change.
UNCHANGED_TOL = 0.01

#: ``unchanged``: a pixel changed when its mean absolute RGB change (0..1) from the first frame
#: exceeds this: above codec noise on flat colours (a few levels), below any repaint.
UNCHANGED_PIXEL = 0.1
#: Smooth ``unchanged``: a pixel's change is sigmoid((change - UNCHANGED_PIXEL) / (UNCHANGED_PIXEL / this)),
#: steep enough that an unchanged region's soft share (~5e-5 a pixel) stays far below ``tol``.
UNCHANGED_SOFTNESS = 10.0

# ---------------------------------------------------------------- colour palette (codecs, anti-aliasing)
#: A pixel belongs to a colour only when it is *clearly* nearer to it than to every other colour
#: of the palette (the colours the rules name and the first frame's palette): its Lab distance to
#: the colour is below FRINGE_RATIO times its distance to the nearest other one. On the RGB line
#: between two colours that keeps the outer third at each end; the middle third (anti-aliased and
#: codec-blurred fringes) belongs to neither.
FRINGE_RATIO = 0.5

#: The first frame's palette is read from its flat pixels: those whose 3x3 neighbourhood varies
#: by at most this much (RGB, 0..1) in every channel (edges, fringes and codec ringing are not
#: colours of the scene) ...
PALETTE_FLAT = 0.08
#: ... in 5-bit bins (each represented by the mean of its pixels) covering at least this fraction of the frame ...
PALETTE_SHARE = 0.002
#: ... and at least this many pixels,
PALETTE_PIXELS = 8
#: merged with a commoner palette colour (or a named one) closer than this (Lab Delta E),
PALETTE_MERGE = 16.0
#: and dropped when it lies within this RGB distance (0..1) of the segment between two commoner
#: palette colours (a blend of them: a fringe), at most PALETTE_SIZE colours.
PALETTE_BLEND = 0.05
PALETTE_SIZE = 16

#: A region frozen at start (``region r = ... at start``) continues under the declared objects
#: standing on it in frame 0: each hole of the region (a piece of the frame it encloses) is
#: filled where at least this share of it is covered by the objects ...
HOLE_COVER = 0.5
#: ... grown by this many pixels: an object's fringe (anti-aliasing, 4:2:0 chroma at half
#: resolution) belongs to neither colour but to the object's footprint.
HOLE_FRINGE = 2

#: Smooth ``left``/``right``/``top``/``bottom``: the share of the mask's mass counted from that
#: side at which the soft edge lies (a soft quantile; 0 would be the exact edge).
EXTENT_QUANTILE = 0.01
