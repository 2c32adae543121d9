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
    EXTENT_QUANTILE,
    FIELD_THRESHOLD,
    FRINGE_RATIO,
    HOLE_COVER,
    HOLE_FRINGE,
    INSIDE_FRAC,
    MOTION_SPEED,
    NEAR_DISTANCE,
    NORM_EPS,
    OVERLAP_FRACTION,
    PALETTE_BLEND,
    PALETTE_FLAT,
    PALETTE_MERGE,
    PALETTE_PIXELS,
    PALETTE_SHARE,
    PALETTE_SIZE,
    POSITION_SCALE,
    PRESENT_AREA,
    PRESENT_FRAC,
    PRESENT_PIXELS,
    TOUCH_RADIUS,
    REACH_SCALE,
    UNCHANGED_PIXEL,
    UNCHANGED_SOFTNESS,
    UNCHANGED_TOL,
)
from rulec.limits import MAX_INSTANCES, MAX_PIXELS, MAX_RADIUS
from rulec.primitives.specs import Kind, Param, PrimitiveSpec

__all__ = ["REGISTRY", "functions", "Kind", "Param", "PrimitiveSpec"]

#: Every entry by name, in the order declared below (the docs' order).
REGISTRY: dict[str, PrimitiveSpec] = {}


def functions() -> dict[str, PrimitiveSpec]:
    """The entries users call by name in the DSL."""
    return {n: s for n, s in REGISTRY.items() if s.callable}


M, S, B, N, I, STR, C, R = Kind.MASK, Kind.SIGNAL, Kind.BOOL, Kind.NUMBER, Kind.INT, Kind.STRING, Kind.COLOR, Kind.RADIUS


def _fn(name, category, params, result, doc, exact, smooth, inputs=(), example="", callable=True, syntax="", appended=()):
    """Register a function users call by name (``callable=True``) or an operator; names are unique."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} registered twice")
    REGISTRY[name] = PrimitiveSpec(name=name, category=category, params=tuple(params), result=result, doc=doc,
                                   exact=exact, smooth=smooth, inputs=tuple(inputs), example=example,
                                   callable=callable, syntax=syntax, appended=tuple(appended))


def _op(name, category, params, result, syntax, doc, exact, smooth, inputs=()):
    """Register a language construct the compiler lowers to a graph node."""
    _fn(name, category, params, result, doc, exact, smooth, inputs, callable=False, syntax=syntax)


def _morphology(name: str, verb: str, noun: str, border: str, example: str) -> None:
    """grow and shrink: the same entry but for the operation's name."""
    pool = " of -mask, negated" if noun == "erosion" else ""
    _fn(
        name,
        "region",
        [Param("mask", M), Param("r", R, doc=f"the radius: normalized frame units (0 to {MAX_RADIUS:g}), or whole pixels "
                                            f"written with `px` (`2px`, at most {MAX_PIXELS})")],
        M,
        f"{verb} a mask by the radius `r`: in normalized frame units, like every distance (`{name}(m, 0.03)`: "
        f"0.03 of the width horizontally, of the height vertically, so the same at any resolution), or in pixels "
        f"written explicitly (`{name}(m, 1px)`).",
        f"flat {noun} with a (2 ry + 1) x (2 rx + 1) rectangle, ry = round(r H) and rx = round(r W) px (halves up; "
        f"`px`: ry = rx = r), as a separable max pool{pool} (the same as kornia.morphology's {noun} with a geodesic border); "
        f"pixels outside the frame {border}; an axis whose radius rounds to 0 is unchanged",
        f"the same {noun} of the soft mask (grey morphology)",
        example=example,
        appended=("unit",),
    )


# ---------------------------------------------------------------- detectors
_fn(
    "color",
    "detector",
    [Param("hex", C, doc="the colour, '#rrggbb'"), Param("tol", N, COLOR_TOL, "Lab distance (Delta E 76) that still counts as this colour")],
    M,
    "Pixels of a colour: within `tol` of `hex` in CIE Lab, and clearly nearer to it than to every other colour of the palette "
    "(the other colours the rules name and the first frame's own colours), so the in-between pixels of anti-aliased edges and "
    "codec-blurred fringes belong to no colour and the same rules give the same verdicts on a lossless video and on its "
    "ordinary H.264 4:2:0 encode.",
    f"1 where min(tol - d, {FRINGE_RATIO:g} * d_other - d) > 0, d the pixel's Lab distance (kornia.color.rgb_to_lab) to hex, "
    "d_other its distance to the nearest other palette colour; the palette: every colour the rules name, plus the first "
    f"frame's flat colours (pixels whose 3x3 neighbourhood varies by <= {PALETTE_FLAT:g} per channel, 5-bit bins of >= "
    f"{PALETTE_SHARE:g} of the frame and >= {PALETTE_PIXELS} px, each its pixels' mean; one within {PALETTE_MERGE:g} of a "
    f"named or commoner colour is that colour; one within {PALETTE_BLEND:g} RGB of the segment between two commoner ones is "
    f"a blend, dropped; at most {PALETTE_SIZE}), computed without gradient once per video",
    f"sigmoid(min(tol - d, {FRINGE_RATIO:g} * d_other - d) / (tol / {COLOR_SOFTNESS:g})) (the same palette)",
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
_morphology("grow", "Dilate", "dilation", "do not count", "grow(walls, 0.02)")
_morphology("shrink", "Erode", "erosion", "do not erode", "shrink(floor, 1px)")

# ------------------------------------------------------- region algebra (operators)
_op("mask_not", "region", [Param("a", M)], M, "not R", "Complement of a region.", "1 - a", "1 - a")
_op("mask_and", "region", [Param("a", M), Param("b", M)], M, "R and S", "Intersection of two regions.", "min(a, b)", "a * b")
_op("mask_or", "region", [Param("a", M), Param("b", M)], M, "R or S", "Union of two regions.", "max(a, b)", "a + b - a * b")
_op("mask_minus", "region", [Param("a", M), Param("b", M)], M, "R - S", "Difference of two regions.", "min(a, 1 - b)", "a * (1 - b)")
_op(
    "fill_holes",
    "region",
    [Param("r", M), Param("objects", M)],
    M,
    "region r = ... at start",
    "A region frozen at start, as a person sees it: it continues under the declared objects standing on it in frame 0, "
    "so an object that starts on the region does not cut a hole in it. Only holes the region encloses are filled (an agent "
    "in a corridor is not enclosed by the walls; a maze's floor is enclosed, but the agent covers little of it). The compiler applies it to every `region` declared with a "
    "top-level `at start`, with every `object` declaration frozen on the first frame.",
    "r > 0.5, plus each hole of it (scipy.ndimage.binary_fill_holes: 4-connected pieces of the complement that r encloses) "
    f"that the objects > 0.5, grown by {HOLE_FRINGE} px (their fringe), cover at least {HOLE_COVER:g} of",
    "max(r, the added footprints) (no gradient: the first frame is detached)",
)

# ---------------------------------------------------------------- measures
_fn("x", "measure", [Param("o", M)], S, f"Horizontal centroid of a mask (mass-normalized), 0 = left, 1 = right; {EMPTY_CENTROID:g} when empty (mass < {EMPTY_MASS:g} px).", "centroid of the mask", "centroid of the soft mask")
_fn("y", "measure", [Param("o", M)], S, f"Vertical centroid of a mask (mass-normalized), 0 = top, 1 = bottom; {EMPTY_CENTROID:g} when empty (mass < {EMPTY_MASS:g} px).", "centroid of the mask", "centroid of the soft mask")
for _side, _axis, _what in (("left_edge", "x", "left edge"), ("right_edge", "x", "right edge"), ("top_edge", "y", "top edge"), ("bottom_edge", "y", "bottom edge")):
    _fn(
        _side,
        "measure",
        [Param("o", M)],
        S,
        f"The {_what} of a mask's bounding box, normalized (0 = left/top of the frame, 1 = right/bottom; pixel edges, so "
        f"the same at any resolution); {EMPTY_CENTROID:g} when empty.",
        f"the {_what} of the outermost pixel > 0.5",
        f"a soft quantile: where the soft mask's mass counted from that side reaches {EXTENT_QUANTILE:g} of its total (linear "
        "within a pixel): within a pixel of the exact edge on a binary mask, inward; finite gradients also when empty",
        example=f"at end {_side}(agent) {'>' if _side in ('left_edge', 'top_edge') else '<'} 0.5",
    )
_fn("area", "measure", [Param("o", M)], S, "Fraction of the frame a mask covers.", "mean of the mask", "mean of the soft mask")
_fn("speed", "measure", [Param("o", M)], S, "Centroid displacement per frame (normalized units); 0 at frame 0 and when empty.", "|c_t - c_{t-1}|", f"sqrt(d^2 + eps^2) - eps of the centroid step, eps = {NORM_EPS:g}")
_fn(
    "components",
    "measure",
    [Param("o", M)],
    S,
    "Number of separate pieces (8-connected components) of a mask thresholded at 0.5, specks under 2e-5 of the frame aside (as for nth); catches a duplicated or torn object.",
    "count of scipy.ndimage.label's pieces; no gradient",
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

# ---------------------------------------------------------------- instances (one piece of a same-colour set)
_INSTANCE = ("8-connected pieces of the mask > 0.5 covering at least 2e-5 of the frame (less: a codec speck; 21 px at 1024x1024, 1 px up to 223x223), labelled per frame (scipy.ndimage.label); the choice carries no gradient, "
             "the result is the soft mask on the chosen piece's pixels (0 elsewhere); empty when there is no piece")
_fn("largest", "region", [Param("o", M)], M, "The largest piece of a mask (several objects of one colour): the one with the most pixels; a tie: the first in raster order.",
    "o on the piece with the most pixels; " + _INSTANCE, "the same (gradient through the chosen piece's soft pixels)", example="x(largest(circles)) > x(smallest(circles))")
_fn("smallest", "region", [Param("o", M)], M, "The smallest piece of a mask: the one with the fewest pixels; a tie: the first in raster order.",
    "o on the piece with the fewest pixels; " + _INSTANCE, "the same (gradient through the chosen piece's soft pixels)", example="present(smallest(circles))")
_fn("nth", "region", [Param("o", M), Param("k", I, doc="1 = the first"), Param("by", STR, "x", "order: x (left to right), y (top to bottom) or area (small to large)")], M,
    "The k-th piece of a mask in order of its centroid's x (left to right), y (top to bottom) or its area (small to large); empty when there are fewer than k.",
    "o on the k-th piece in ascending order of `by` (stable: ties in raster order); " + _INSTANCE, "the same (gradient through the chosen piece's soft pixels)",
    example='area(nth(circles, 1)) < area(nth(circles, 2))')

_fn("track", "region", [Param("o", M), Param("k", I, doc="1 = the first"), Param("by", STR, "x", "order of the pieces in frame 0: x, y or area")], M,
    "One object of a same-colour set followed over time: the k-th piece of the mask in frame 0 (in `nth`'s order), and in each "
    "later frame the piece assigned to it; empty while it is hidden, merged into another piece or gone, and found again where it reappears.",
    "each frame, every frame-0 piece is assigned to one of the frame's pieces (specks aside, as for nth) by an optimal assignment of centroid "
    "distances from its last known centroid (scipy.optimize.linear_sum_assignment); a piece left without a track (a duplicate) "
    "is no one's; o on the assigned piece's pixels; no gradient through the choice",
    "the same (gradient through the assigned piece's soft pixels)",
    inputs=("tracks",),
    example="at end inside(track(cards, 1), right)")

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
_fn("touches", "atom", [Param("o", M), Param("r", M)], B, f"The object touches the region: overlaps it grown by {TOUCH_RADIUS:g} of the frame (1 px at 32 px; at 1024 px the outlines between two shapes in contact fit).", f"overlaps(o, grow(r, {TOUCH_RADIUS:g})), distance factor included", "same margin on soft masks")
_fn("near", "atom", [Param("a", M), Param("b", M), Param("d", N, NEAR_DISTANCE, "distance threshold, normalized units")], B, "Centroids closer than d (straight line; through free space write `path_distance(a, b, free) < d`, the same margin).", "(d - distance) / d: linear in the distance, so never flat", "same margin")
_fn("left_of", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is left of b's.", f"(x(b) - x(a)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("right_of", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is right of b's.", f"(x(a) - x(b)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("above", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is above b's.", f"(y(b) - y(a)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn("below", "atom", [Param("a", M), Param("b", M)], B, "a's centroid is below b's.", f"(y(a) - y(b)) / {POSITION_SCALE:g}: linear, never flat", "same margin")
_fn(
    "present",
    "atom",
    [Param("o", M), Param("frac", N, PRESENT_FRAC, "fraction of the object's frame-0 area that counts as present"),
     Param("min_area", N, 0.0, "an absolute smallest area (fraction of the frame) instead; 0: relative to frame 0")],
    B,
    f"The object is visible: its area is at least frac times its area in frame 0 (so a codec-frayed, shrunk or half-hidden object still counts). "
    f"An object covering fewer than {PRESENT_PIXELS} pixels in frame 0 (absent there) is compared with the absolute {PRESENT_AREA:g} of the frame instead; "
    "`min_area=` (> 0) gives an absolute threshold explicitly.",
    "tanh((area - a) / a), a = frac * area(o at start) (or min_area, or the absolute fallback); the compiler passes `o at start` as a last argument",
    "same margin on the soft masks (the frame-0 area carries no gradient)",
    example="always present(agent)",
    appended=("first",),
)
_fn("moving", "atom", [Param("o", M), Param("v", N, MOTION_SPEED, "speed that counts as moving")], B, "The object moves (speed above v).", "tanh((speed - v) / v)", "same margin")
_fn("still", "atom", [Param("o", M), Param("v", N, MOTION_SPEED, "speed that counts as still")], B, "The object does not move (speed below v).", "tanh((v - speed) / v)", "same margin")
_fn(
    "unchanged",
    "atom",
    [Param("r", M), Param("tol", N, UNCHANGED_TOL, "share of r's pixels that may change")],
    B,
    f"The pixels of region r look as in the first frame: at most a share tol of them changed (a pixel changed when its "
    f"mean absolute RGB change exceeds {UNCHANGED_PIXEL:g}), so a local repaint of a long wall fails however small the mean change.",
    f"(tol - share) / tol up to tol, (tol - share) / (1 - tol) beyond (+1 .. -1), share = mass(r * [mean |RGB - first frame| > {UNCHANGED_PIXEL:g}]) / mass(r); below 0 multiplied by "
    f"(1 + mean change over r / {UNCHANGED_PIXEL:g}) (same sign, still pulling where the step is flat); +1 for an empty r",
    f"the same with sigmoid((change - {UNCHANGED_PIXEL:g}) / ({UNCHANGED_PIXEL:g} / {UNCHANGED_SOFTNESS:g})) for the step",
    inputs=("video", "start"),
    example="always unchanged(walls)",
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
_op("forall", "logic", [Param("count", S), Param("needs", N), Param("a", B)], B, "all c, d in S: A",
    f"A for every choice of distinct instances of S (each variable a track(S, k); at most {MAX_INSTANCES} instances). "
    "The body is built once per choice; a choice counts when S has that many pieces in the first frame (count = components(S)).",
    f"min over the choices that count; +{EMPTY_MARGIN:g} when none does (vacuously true)", "soft-min over the same choices (same fill)")
_op("exists", "logic", [Param("count", S), Param("needs", N), Param("a", B)], B, "any c in S: A",
    "A for some choice of distinct instances of S (as for all).",
    f"max over the choices that count; -{EMPTY_MARGIN:g} when none does", "log-mean-exp over the same choices (same fill)")
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
