"""Shared Hypothesis strategies and evaluators for the primitives' property tests.

* ``drawn_videos``: videos of palette sprites (rectangles) on a palette background, with
  the ground-truth mask of every sprite colour;
* ``margin_tensors``: random per-frame margins;
* ``formulas``: random formula trees (``st.recursive``) in negation normal form, with
  ``evaluate`` (through the vectorized kernels) and ``reference`` (a per-frame Python
  loop written from the definitions) to compare against.

A formula is a nested tuple:
``("atom", k)`` / ``("natom", k)`` (atom k or its negation), ``("static", k)`` (atom k's
first-frame value, a ``(B, 1)`` margin), ``("and", f, g, ...)``, ``("or", f, g, ...)``,
``("always", f, start, stop, offset)``, ``("eventually", f, start, stop, offset)``,
``("until", f, g, start, stop)``, ``("release", f, g, start, stop)``,
``("next", f, empty)``, ``("prev", f, empty)`` (empty: the fill past the video's edge, +-1),
``("at_start", f)``, ``("at_end", f)``.

Windows are relative to the frame evaluated (``[a:b]``: frames t+a .. t+b-1) unless a bound
is negative (absolute frames >= t + offset, as on a rule's outermost operator); the
reference loops below spell that out independently of ``rulec.windows``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rulec.frames import to_float
from rulec.primitives.kernels import KERNELS
from rulec.runtime.tasks.world import PALETTE, hex_to_rgb

COLOURS = tuple(PALETTE)  # names


# ------------------------------------------------------------------ videos
@dataclass
class DrawnVideo:
    video: torch.Tensor  # (B, T, 3, H, W) float64 in [0, 1]
    background: str  # palette name
    masks: dict[str, torch.Tensor]  # palette name -> (B, T, H, W) bool, where that colour was drawn


@st.composite
def drawn_videos(draw, max_batch=2, max_frames=5, min_size=8, max_size=20):
    """Rectangular sprites of palette colours drawn over a palette background."""
    b = draw(st.integers(1, max_batch))
    t = draw(st.integers(1, max_frames))
    h = draw(st.integers(min_size, max_size))
    w = draw(st.integers(min_size, max_size))
    background = draw(st.sampled_from(COLOURS))
    frames = np.empty((b, t, h, w, 3), dtype=np.uint8)
    frames[...] = hex_to_rgb(PALETTE[background])
    painted = np.full((b, t, h, w), "", dtype=object)
    painted[...] = background
    n_sprites = draw(st.integers(0, 3))
    for _ in range(n_sprites):
        colour = draw(st.sampled_from([c for c in COLOURS if c != background]))
        for bi in range(b):
            for ti in range(t):
                if not draw(st.booleans()) and t > 1:
                    continue  # the sprite is missing from this frame
                x0 = draw(st.integers(0, w - 1))
                y0 = draw(st.integers(0, h - 1))
                x1 = draw(st.integers(x0 + 1, w))
                y1 = draw(st.integers(y0 + 1, h))
                frames[bi, ti, y0:y1, x0:x1] = hex_to_rgb(PALETTE[colour])
                painted[bi, ti, y0:y1, x0:x1] = colour
    video = to_float(frames, torch.float64)
    masks = {c: torch.from_numpy(painted == c) for c in COLOURS}
    return DrawnVideo(video, background, masks)


# ------------------------------------------------------------------ margins
def margin_tensors(batch: int, frames: int, atoms: int = 1, bound: float = 3.0):
    """float64 margins ``(batch, frames, atoms)`` in [-bound, bound]."""
    elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=64)
    return arrays(np.float64, (batch, frames, atoms), elements=elements).map(torch.from_numpy)


def distinct(x: torch.Tensor) -> torch.Tensor:
    """Break ties (hard min/max are not differentiable at ties) with a tiny distinct offset."""
    ramp = torch.arange(x.numel(), dtype=x.dtype).reshape(x.shape)
    return x + 1e-3 * ramp / x.numel()


# ------------------------------------------------------------------ formulas
@st.composite
def windows(draw, frames: int):
    """A non-empty Python slice of range(frames), written with None / negatives at random."""
    lo = draw(st.integers(0, frames - 1))
    hi = draw(st.integers(lo + 1, frames))
    start = draw(st.sampled_from([lo, lo - frames] + ([None] if lo == 0 else [])))
    stop = draw(st.sampled_from([hi] + ([hi - frames] if hi < frames else [None])))
    return start, stop


def formulas(frames: int, atoms: int, negated_leaves: bool = True, static_leaves: bool = True, max_leaves: int = 8):
    kinds = ["atom"] + (["natom"] if negated_leaves else []) + (["static"] if static_leaves else [])
    leaves = st.tuples(st.sampled_from(kinds), st.integers(0, atoms - 1))

    def extend(child):
        window = windows(frames)
        return st.one_of(
            st.lists(child, min_size=2, max_size=3).map(lambda xs: ("and", *xs)),
            st.lists(child, min_size=2, max_size=3).map(lambda xs: ("or", *xs)),
            st.tuples(child, window, st.integers(0, 1)).map(lambda a: ("always", a[0], *a[1], a[2])),
            st.tuples(child, window, st.integers(0, 1)).map(lambda a: ("eventually", a[0], *a[1], a[2])),
            st.tuples(child, child, window).map(lambda a: ("until", a[0], a[1], *a[2])),
            st.tuples(child, child, window).map(lambda a: ("release", a[0], a[1], *a[2])),
            child.map(lambda f: ("at_start", f)),
            child.map(lambda f: ("at_end", f)),
            child.map(lambda f: ("next", f, 1.0)),
            child.map(lambda f: ("prev", f, 1.0)),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


DUAL = {"and": "or", "or": "and", "always": "eventually", "eventually": "always", "until": "release", "release": "until", "at_start": "at_start", "at_end": "at_end", "next": "next", "prev": "prev"}


def negate(f):
    """The negation pushed down to the atoms (negation normal form)."""
    op = f[0]
    if op == "atom":
        return ("natom", f[1])
    if op == "natom":
        return ("atom", f[1])
    if op == "static":
        return ("nstatic", f[1])
    if op == "nstatic":
        return ("static", f[1])
    if op in ("and", "or"):
        return (DUAL[op], *[negate(g) for g in f[1:]])
    if op in ("always", "eventually"):
        return (DUAL[op], negate(f[1]), *f[2:])
    if op in ("until", "release"):
        return (DUAL[op], negate(f[1]), negate(f[2]), *f[3:])
    if op in ("next", "prev"):
        return (op, negate(f[1]), -f[2])
    return (op, negate(f[1]))


def weighted_depth(f) -> int:
    """Number of smooth aggregation levels on the deepest path (until/release count 3)."""
    op = f[0]
    if op in ("atom", "natom", "static", "nstatic"):
        return 0
    if op in ("at_start", "at_end", "next", "prev"):
        return weighted_depth(f[1])
    if op in ("until", "release"):
        return 3 + max(weighted_depth(f[1]), weighted_depth(f[2]))
    children = [g for g in f[1:] if isinstance(g, tuple)]
    return 1 + max(weighted_depth(g) for g in children)


def leaves_of(f):
    if f[0] in ("atom", "natom", "static", "nstatic"):
        yield f
    else:
        for g in f[1:]:
            if isinstance(g, tuple):
                yield from leaves_of(g)


def evaluate(f, sem, margins: torch.Tensor) -> torch.Tensor:
    """Evaluate a formula with the vectorized kernels; margins ``(B, T, K)`` -> ``(B, T|1)``."""
    op = f[0]
    if op == "atom":
        return margins[..., f[1]]
    if op == "natom":
        return KERNELS["neg"](sem, margins[..., f[1]])
    if op == "static":
        return margins[:, :1, f[1]]
    if op == "nstatic":
        return KERNELS["neg"](sem, margins[:, :1, f[1]])
    if op in ("and", "or"):
        return KERNELS[op](sem, *[evaluate(g, sem, margins) for g in f[1:]])
    if op in ("always", "eventually"):
        return KERNELS[op](sem, evaluate(f[1], sem, margins), *f[2:])
    if op in ("until", "release"):
        return KERNELS[op](sem, evaluate(f[1], sem, margins), evaluate(f[2], sem, margins), *f[3:])
    if op in ("next", "prev"):
        return KERNELS[op](sem, evaluate(f[1], sem, margins), f[2])
    return KERNELS[op](sem, evaluate(f[1], sem, margins))


# ------------------------------------------------------------------ reference (per-frame loops)
class RefExact:
    """Plain min/max over Python lists of scalar tensors."""

    def min(self, xs):
        return torch.stack(xs).min()

    def max(self, xs):
        return torch.stack(xs).max()

    def wmax(self, x, y, w):
        """A max that weighs x by w (exactly: the max)."""
        return torch.maximum(x, y)


class RefSmooth:
    """Soft-min and log-mean-exp, from their definitions."""

    def __init__(self, beta):
        self.beta = beta

    def min(self, xs):
        return -torch.logsumexp(-self.beta * torch.stack(xs), 0) / self.beta

    def max(self, xs):
        return (torch.logsumexp(self.beta * torch.stack(xs), 0) - math.log(len(xs))) / self.beta

    def wmax(self, x, y, w):
        """log(w e^(beta x) + (1 - w) e^(beta y)) / beta: the weighted log-mean-exp of until's recursion."""
        return torch.log(w * torch.exp(self.beta * x) + (1 - w) * torch.exp(self.beta * y)) / self.beta


def window_frames(start, stop, offset, length, t):
    """The frames a window covers at frame t: relative, or absolute with a negative bound."""
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        return [j for j in range(length)[slice(start, stop)] if j >= t + offset]
    lo = max(start or 0, offset)
    return list(range(t + lo, length if stop is None else min(length, t + stop)))


def until_row(ref, ra, rb, start, stop, strong):
    """until (strong) / release over one sample's rows. Exact: the definition, a max over
    witnesses j of min(b_j, min a[t:j]). Smooth: the kernels' definition written as loops:
    the backward recursion with a 1/n-weighted max for unbounded windows, joined with the
    window's A-prefix and B-window (``until[s:e] = eventually[s:e] B and always[0:s] A and U at t+s``)."""
    length = len(ra)
    anchored = (start is not None and start < 0) or (stop is not None and stop < 0)
    empty = torch.tensor(-1.0 if strong else 1.0, dtype=ra[0].dtype)
    inner, outer = (ref.min, ref.max) if strong else (ref.max, ref.min)
    if isinstance(ref, RefExact):
        row = []
        for t in range(length):
            witnesses = window_frames(start, stop, 0, length, t)
            values = [inner([rb[j], inner(ra[t:j])]) if j > t else rb[j] for j in witnesses]
            row.append(outer(values) if values else empty)
        return row

    def scan(end):  # unbounded until/release on frames [0, end), from every frame
        u = [None] * end
        u[end - 1] = rb[end - 1]
        for t in range(end - 2, -1, -1):
            w = 1.0 / (end - t)
            if strong:
                u[t] = ref.wmax(rb[t], ref.min([ra[t], u[t + 1]]), w)
            else:
                u[t] = ref.min([rb[t], ref.wmax(ra[t], u[t + 1], w)])
        return u

    if anchored:
        lo, hi, _ = slice(start, stop).indices(length)
        u = scan(hi)
        return [empty if t >= hi else u[t] if t >= lo else inner([inner(ra[t:lo]), u[lo]]) for t in range(length)]
    s = start or 0
    u = scan(length)
    row = []
    for t in range(length):
        if t + s >= length:
            row.append(empty)
            continue
        value = u[t + s]
        if s > 0:
            value = inner([inner(ra[t:t + s]), value])
        if stop is not None:
            value = inner([outer(rb[t + s:min(length, t + stop)]), value])
        row.append(value)
    return row


def reference(f, ref, margins: torch.Tensor) -> list[list[torch.Tensor]]:
    """Per-sample, per-frame values of a formula from loops over frames: ``[b][t]`` scalars."""
    op = f[0]
    if op in ("atom", "natom", "static", "nstatic"):
        sign = -1.0 if op.startswith("n") else 1.0
        rows = margins[..., f[1]] * sign
        if op in ("static", "nstatic"):
            rows = rows[:, :1]
        return [list(r) for r in rows]
    if op in ("and", "or"):
        subs = [reference(g, ref, margins) for g in f[1:]]
        agg = ref.min if op == "and" else ref.max
        out = []
        for b in range(margins.shape[0]):
            length = max(len(s[b]) for s in subs)
            out.append([agg([s[b][t if len(s[b]) > 1 else 0] for s in subs]) for t in range(length)])
        return out
    if op in ("at_start", "at_end"):
        sub = reference(f[1], ref, margins)
        return [[row[0 if op == "at_start" else -1]] * len(row) for row in sub]
    if op in ("always", "eventually"):
        sub = reference(f[1], ref, margins)
        start, stop, offset = f[2:]
        agg, empty = (ref.min, 1.0) if op == "always" else (ref.max, -1.0)
        out = []
        for row in sub:
            if len(row) == 1:
                out.append(row)
                continue
            out.append([agg([row[j] for j in frames]) if frames else torch.tensor(empty, dtype=margins.dtype)
                        for t, frames in ((t, window_frames(start, stop, offset, len(row), t)) for t in range(len(row)))])
        return out
    if op in ("next", "prev"):
        fill = torch.tensor(f[2], dtype=margins.dtype)
        out = []
        for row in reference(f[1], ref, margins):
            if len(row) == 1:
                out.append(row)
            elif op == "next":
                out.append(row[1:] + [fill])
            else:
                out.append([fill] + row[:-1])
        return out
    if op in ("until", "release"):
        sa, sb = reference(f[1], ref, margins), reference(f[2], ref, margins)
        start, stop = f[3:]
        out = []
        for ra, rb in zip(sa, sb):
            if len(ra) == len(rb) == 1:
                out.append(rb)  # two static margins: B (the witness j = t)
                continue
            length = max(len(ra), len(rb))
            ra = ra * length if len(ra) == 1 else ra
            rb = rb * length if len(rb) == 1 else rb
            out.append(until_row(ref, ra, rb, start, stop, op == "until"))
        return out
    raise ValueError(f"unknown operator {op!r}")


def reference_tensor(f, ref, margins: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.stack(row) for row in reference(f, ref, margins)])
