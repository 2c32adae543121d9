"""The one list of what exists: every primitive's signature, kind and documentation.

The compiler's checker reads signatures from here, the docs (``docs/primitives.md``)
are generated from here, and the VLM teacher's prompt is built from here. What an entry
is (:class:`Kind`, :class:`Param`, :class:`PrimitiveSpec`) is :mod:`rulec.primitives.specs`;
the values of defaults and scales are :mod:`rulec.primitives.conventions`. The kernels
(torch code) live in the sibling modules and are looked up by name through
:mod:`rulec.primitives.kernels`; this module must stay importable without torch so
that ``rulec compile`` starts fast.

Positions, distances and speeds are in normalized frame units (0 to 1 across the frame;
speed per frame). Margins are signed and scaled to about 1: positive means the atom holds.

Two families of entries:

* **functions** (``callable=True``): written by users as ``name(arg, ...)`` in the DSL,
  e.g. ``color("#e53935", tol=12)``, ``inside(agent, goal)``, ``speed(agent)``.
* **operators** (``callable=False``): language constructs the compiler lowers to graph
  nodes (``always``, ``and``, ``<``, region ``not``...). They are listed so that their
  kernels, their docs and the prompt come from the same place.

Kernel calling convention (see ``kernels.py``): ``kernel(sem, *implicit_inputs, *args)``
where ``sem`` is the semantics object (:class:`rulec.primitives.semantics.Exact` or
``Smooth``), ``implicit_inputs`` are the graph's input tensors named in
``PrimitiveSpec.inputs`` (``"video"``: ``(B, T, 3, H, W)``; ``"start"``: the first frame
``(B, 1, 3, H, W)``, detached), and ``args`` follow ``params`` in order, keyword
defaults already filled in by the compiler.
"""

from __future__ import annotations

from rulec.primitives.conventions import (
    COLOR_SOFTNESS,
    COLOR_TOL,
    DECREASE_SCALE,
    DECREASE_TOL,
    EMPTY_CENTROID,
    EMPTY_MARGIN,
    EMPTY_MASS,
    EMPTY_PATH_DISTANCE,
    FIELD_THRESHOLD,
    INSIDE_FRAC,
    MOTION_SPEED,
    NEAR_DISTANCE,
    NORM_EPS,
    OVERLAP_FRACTION,
    POSITION_SCALE,
    PRESENT_AREA,
    REACH_SCALE,
    UNCHANGED_TOL,
)
from rulec.primitives.specs import Kind, Param, PrimitiveSpec

__all__ = ["REGISTRY", "functions", "Kind", "Param", "PrimitiveSpec"]

#: Every entry by name, in the order declared below (the docs' order).
REGISTRY: dict[str, PrimitiveSpec] = {}


def functions() -> dict[str, PrimitiveSpec]:
    """The entries users call by name in the DSL."""
    return {n: s for n, s in REGISTRY.items() if s.callable}


M, S, B, N, I, STR, C = Kind.MASK, Kind.SIGNAL, Kind.BOOL, Kind.NUMBER, Kind.INT, Kind.STRING, Kind.COLOR


def _fn(name, category, params, result, doc, exact, smooth, inputs=(), example="", callable=True, syntax=""):
    """Register a function users call by name (``callable=True``) or an operator; names are unique."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} registered twice")
    REGISTRY[name] = PrimitiveSpec(name=name, category=category, params=tuple(params), result=result, doc=doc,
                                   exact=exact, smooth=smooth, inputs=tuple(inputs), example=example,
                                   callable=callable, syntax=syntax)


def _op(name, category, params, result, syntax, doc, exact, smooth, inputs=()):
    """Register a language construct the compiler lowers to a graph node."""
    _fn(name, category, params, result, doc, exact, smooth, inputs, callable=False, syntax=syntax)


def _morphology(name: str, verb: str, noun: str, border: str, example: str) -> None:
    """grow and shrink: the same entry but for the operation's name."""
    _fn(
        name,
        "region",
        [Param("mask", M), Param("px", I)],
        M,
        f"{verb} a mask by `px` pixels (kornia.morphology).",
        f"binary {noun} with a (2px+1) square; pixels outside the frame {border}",
        f"grey {noun} of the soft mask",
        example=example,
    )


# ---------------------------------------------------------------- detectors
_fn(
    "color",
    "detector",
    [Param("hex", C, doc="the colour, '#rrggbb'"), Param("tol", N, COLOR_TOL, "Lab distance (Delta E 76) that still counts as this colour")],
    M,
    "Pixels whose colour is within `tol` of `hex` in CIE Lab.",
    "1 where the Lab distance (kornia.color.rgb_to_lab) is < tol, else 0",
    f"sigmoid((tol - distance) / (tol / {COLOR_SOFTNESS:g}))",
    inputs=("video",),
    example='color("#e53935")',
)
_fn(
    "box",
    "detector",
    [Param("x0", N), Param("y0", N), Param("x1", N), Param("y1", N)],
    M,
    "A fixed rectangle in normalized coordinates (0..1, y down); static over time.",
    "1 for pixels whose centre lies in the box",
    "same as exact (a box carries no gradient)",
    inputs=("video",),
    example="box(0.0, 0.0, 0.5, 1.0)",
)
_morphology("grow", "Dilate", "dilation", "do not count", "grow(walls, 1)")
_morphology("shrink", "Erode", "erosion", "do not erode", "shrink(floor, 1)")

# ------------------------------------------------------- region algebra (operators)
_op("mask_not", "region", [Param("a", M)], M, "not R", "Complement of a region.", "1 - a", "1 - a")
_op("mask_and", "region", [Param("a", M), Param("b", M)], M, "R and S", "Intersection of two regions.", "min(a, b)", "a * b")
_op("mask_or", "region", [Param("a", M), Param("b", M)], M, "R or S", "Union of two regions.", "max(a, b)", "a + b - a * b")
_op("mask_minus", "region", [Param("a", M), Param("b", M)], M, "R - S", "Difference of two regions.", "min(a, 1 - b)", "a * (1 - b)")

# ---------------------------------------------------------------- measures
_fn("x", "measure", [Param("o", M)], S, f"Horizontal centroid of a mask (mass-normalized), 0 = left, 1 = right; {EMPTY_CENTROID:g} when empty (mass < {EMPTY_MASS:g} px).", "centroid of the mask", "centroid of the soft mask")
_fn("y", "measure", [Param("o", M)], S, f"Vertical centroid of a mask (mass-normalized), 0 = top, 1 = bottom; {EMPTY_CENTROID:g} when empty (mass < {EMPTY_MASS:g} px).", "centroid of the mask", "centroid of the soft mask")
_fn("area", "measure", [Param("o", M)], S, "Fraction of the frame a mask covers.", "mean of the mask", "mean of the soft mask")
_fn("speed", "measure", [Param("o", M)], S, "Centroid displacement per frame (normalized units); 0 at frame 0 and when empty.", "|c_t - c_{t-1}|", f"sqrt(d^2 + eps^2) - eps of the centroid step, eps = {NORM_EPS:g}")
_fn(
    "components",
    "measure",
    [Param("o", M)],
    S,
    "Number of separate pieces (8-connected components) of a mask thresholded at 0.5; catches a duplicated or torn object.",
    "count from kornia.contrib.connected_components; no gradient",
    "the same count (not differentiable: pair it with differentiable rules)",
    example="components(agent) < 1.5",
)
_fn("distance", "measure", [Param("a", M), Param("b", M)], S, "Distance between the centroids of two masks (normalized units); an empty mask sits at the frame centre.", "|c_a - c_b|", f"sqrt(d^2 + eps^2) - eps, eps = {NORM_EPS:g}")
_fn(
    "path_distance",
    "measure",
    [Param("o", M, doc="the object (usually moving)"), Param("goal", M, doc="where it must get to (usually frozen)"),
     Param("free", M, doc="where it may go, e.g. `not walls` (usually frozen); goal pixels always count as free")],
    S,
    "How far the object is from the goal along free space (normalized units): the shortest way around walls, not the straight line. "
    f"Use it in comparisons (`path_distance(agent, goal, floor) < 0.05` is `near` through free space) and in `progress`; {EMPTY_PATH_DISTANCE:g} when the object or the goal is empty.",
    f"mass-weighted mean over o of D, D = shortest 8-connected pixel path to the goal through free or goal pixels (masks > {FIELD_THRESHOLD:g}; "
    "steps cost their length, no corner cutting), computed without gradient; a pixel the goal cannot be reached from "
    "takes its nearest reachable pixel's D plus the straight distance to it",
    "the same field read at the soft mask: the gradient flows through o only",
    example="progress path_distance(agent, goal, not walls)",
)

# ---------------------------------------------------------------- atoms
def _reach(dbar: str) -> str:
    """The distance factor of inside/overlaps/touches, worded once."""
    return (
        f"; below the threshold the margin is multiplied by (1 + dbar / {REACH_SCALE:g}), dbar = {dbar}, from an exact "
        f"Euclidean distance transform of the other mask thresholded at {FIELD_THRESHOLD:g} (no gradient; 0 when either "
        "mask is empty): same sign, and still falling with distance where no mass overlaps"
    )


_fn("inside", "atom", [Param("o", M), Param("r", M), Param("frac", N, INSIDE_FRAC, "fraction of the object's mass that must lie in r, strictly between 0 and 1")], B, "Most of the object's mass lies in the region; the margin keeps pulling towards the region from anywhere in the frame.", "share s = mass(o*r) / mass(o) (0 for an empty o) onto [-1, 1]: (s - frac) / (1 - frac) above frac, (s - frac) / frac below" + _reach("the mass-weighted mean distance of o's pixels to r"), "same margin on soft masks (the gradient of dbar flows through o)")
_fn("overlaps", "atom", [Param("a", M), Param("b", M)], B, f"The two masks share some pixels ({OVERLAP_FRACTION:g} of the smaller one's mass).", f"shared mass / smaller mass onto [-1, 1] through 0 at {OVERLAP_FRACTION:g} (as inside)" + _reach("the smaller of a's mean distance to b and b's mean distance to a"), "same margin on soft masks")
_fn("touches", "atom", [Param("o", M), Param("r", M)], B, "The object touches the region (overlaps the region grown by one pixel).", "overlaps(o, grow(r, 1)), distance factor included", "same margin on soft masks")
_fn("near", "atom", [Param("a", M), Param("b", M), Param("d", N, NEAR_DISTANCE, "distance threshold, normalized units")], B, "Centroids closer than d (straight line; through free space write `path_distance(a, b, free) < d`, the same margin).", "(d - distance) / d: linear in the distance, so never flat", "same margin")
_fn("left_of", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is left of b's.", f"(x(b) - x(a)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("right_of", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is right of b's.", f"(x(a) - x(b)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("above", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is above b's.", f"(y(b) - y(a)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("below", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is below b's.", f"(y(a) - y(b)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("present", "atom", [Param("o", M), Param("min_area", N, PRESENT_AREA, "smallest area that counts as present")], B, "The object is visible (its area is at least min_area).", "tanh((area - min_area) / min_area)", "same margin")
_fn("moving", "atom", [Param("o", M), Param("v", N, MOTION_SPEED, "speed that counts as moving")], B, "The object moves (speed above v).", "tanh((speed - v) / v)", "same margin")
_fn("still", "atom", [Param("o", M), Param("v", N, MOTION_SPEED, "speed that counts as still")], B, "The object does not move (speed below v).", "tanh((v - speed) / v)", "same margin")
_fn(
    "unchanged",
    "atom",
    [Param("r", M), Param("tol", N, UNCHANGED_TOL, "mean absolute RGB change (0..1) allowed")],
    B,
    "The pixels of region r look as in the first frame.",
    "(tol - mean over r of the per-pixel mean |RGB - first frame|) / tol; +1 for an empty r",
    "same margin",
    inputs=("video", "start"),
)
_fn(
    "ask",
    "atom",
    [Param("question", STR)],
    B,
    "A VLM's yes/no answer on the frames: logit(yes) - logit(no). Needs a VLM given to the reward.",
    "logit margin of the VLM",
    "logit margin of the VLM (differentiable in the pixels)",
    inputs=("video",),
    example='ask("Is the red disc on the green square?")',
)

# ----------------------------------------------------- comparisons (operators)
_op("lt", "comparison", [Param("a", S), Param("b", S)], B, "m < n", "A measure is below another (or a number).", f"(b - a) / s with s = |c| when one side is a nonzero number c, else {POSITION_SCALE:g}", "same margin")
_op("gt", "comparison", [Param("a", S), Param("b", S)], B, "m > n", "A measure is above another (or a number).", "(a - b) / s, s as for <", "same margin")
_op("decreasing", "comparison", [Param("m", S)], B, "(inside progress m)", "Per-frame decrease of a measure: m_t - m_{t+1}, with a small tolerance; the last frame is neutral.", f"(m_t - m_(t+1) + {DECREASE_TOL:g}) / {DECREASE_SCALE:g}; +{EMPTY_MARGIN:g} at the last frame", "same margin")

# ---------------------------------------------------------------- logic (operators)
_op("and", "logic", [Param("a", B), Param("b", B)], B, "A and B", "Both hold (n-ary).", "min", "soft-min -LSE(-beta x)/beta (a lower bound of min)")
_op("or", "logic", [Param("a", B), Param("b", B)], B, "A or B", "Either holds (n-ary).", "max", "log-mean-exp LSE(beta x)/beta - log(n)/beta (a lower bound of max)")
_op("neg", "logic", [Param("a", B)], B, "not A", "Negation; the compiler pushes it down to atoms, so it only ever wraps an atom or comparison.", "-a", "-a")

# ---------------------------------------------------------------- temporal (operators)
_WIN = [Param("start", I), Param("stop", I), Param("offset", I)]
_op(
    "always",
    "temporal",
    [Param("a", B), *_WIN],
    B,
    "always[a:b] A",
    "A holds at every frame of the window. Window [a:b] is relative to the frame t being evaluated: frames t+a .. t+b-1 (a half-open slice; rtamt's [a, b] is [a:b+1]), [a:] to the end; a negative bound (outermost operator only) counts from the video's end. offset 1 drops frame t itself.",
    f"min over the window (suffix scan, or van Herk/Gil-Werman when bounded); +{EMPTY_MARGIN:g} where no window frame is left",
    "soft-min over the window (same fill)",
)
_op(
    "eventually",
    "temporal",
    [Param("a", B), *_WIN],
    B,
    "eventually[a:b] A",
    "A holds at some frame of the window (same window convention as always).",
    f"max over the window; -{EMPTY_MARGIN:g} where no window frame is left",
    "log-mean-exp over the window (same fill)",
)
_op(
    "next",
    "temporal",
    [Param("a", B), Param("empty", N, EMPTY_MARGIN, "the margin where there is no such frame")],
    B,
    "next A",
    "A holds at the next frame (discrete time: 'immediately after'). At the last frame it holds vacuously, as rtamt's next; under a negation the compiler passes empty = -1.",
    "a[t+1]; `empty` at the last frame",
    "a[t+1]; `empty` at the last frame",
)
_op(
    "prev",
    "temporal",
    [Param("a", B), Param("empty", N, EMPTY_MARGIN, "the margin where there is no such frame")],
    B,
    "prev A",
    "A held at the previous frame ('immediately before'); vacuous at the first frame, as rtamt's prev.",
    "a[t-1]; `empty` at the first frame",
    "a[t-1]; `empty` at the first frame",
)
_op("at_start", "temporal", [Param("a", B)], B, "at start A", "A holds at the first frame.", "a[0]", "a[0]")
_op("at_end", "temporal", [Param("a", B)], B, "at end A", "A holds at the last frame.", "a[T-1]", "a[T-1]")
_op(
    "until",
    "temporal",
    [Param("a", B), Param("b", B), Param("start", I), Param("stop", I)],
    B,
    "A until B",
    "B holds at some frame j of the window and A holds at every frame from now until before j.",
    f"max over window frames j of min(b_j, min_(t<=i<j) a_i), by the backward recursion u_t = max(b_t, min(a_t, u_(t+1))) (O(T)); bounded: eventually[a:b] B and A until[a:] B; -{EMPTY_MARGIN:g} where no window frame is left",
    "the recursion with soft-min and a log-mean-exp weighted 1/n_t (n_t witnesses left): a lower bound within 2 log(n)/beta of exact",
)
_op(
    "release",
    "temporal",
    [Param("a", B), Param("b", B), Param("start", I), Param("stop", I)],
    B,
    "not (not A until not B)",
    "The dual of until (produced by pushing negation into until): B holds up to and including the first frame where A holds.",
    f"min over window frames j of max(b_j, max_(t<=i<j) a_i) = -until(-a, -b); +{EMPTY_MARGIN:g} where no window frame is left",
    "the dual recursion r_t = smin(b_t, weighted log-mean-exp(a_t, r_(t+1))): a lower bound",
)
