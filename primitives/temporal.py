"""Temporal operators over per-frame margins ``(B, T)``, vectorized over frames.

Windows are resolved by :mod:`rulec.windows` (the one place that gives ``[start:stop]``
its meaning): relative to the frame t being evaluated, frames past the video's end are
not there; a window with a negative bound (only on a rule's outermost operator) is a
slice of absolute frames ``>= t + offset``. Where a window holds no frame at t the result
is the operator's finite neutral margin (``always``/``release``/``next`` ->
``+EMPTY_MARGIN``, ``eventually``/``until`` -> ``-EMPTY_MARGIN``).

Every operator is O(T) in time and memory: suffix scans for unbounded windows, sliding
(van Herk/Gil-Werman) reductions for bounded ones, a backward recursion for until/release
(``Semantics.until_scan``), and bounded until as ``eventually[a:b] B and A until[a:] B``
(Donze et al., CAV 2013; exact in discrete time, a lower bound of it smoothly).

A ``(B, 1)`` input is a static margin: ``always``/``eventually``/``next``/``prev``/
``at_start``/``at_end`` return it unchanged (a constant holds at every frame or at none),
and ``until``/``release`` of two static margins return B, since the kernel does not see the
video length (so the window of a static operand is not checked against T).

Kernels take exactly the registry's parameters, without defaults of their own: the
compiler fills every argument, ``next``/``prev``'s ``empty`` from the registry's default.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_MARGIN
from rulec.primitives.semantics import Semantics
from rulec.windows import Frames, WindowError, frames_of

__all__ = ["WindowError", "always", "eventually", "next_", "prev", "at_start", "at_end", "until", "release"]


def _shift(x: Tensor, steps: int, fill: float) -> Tensor:
    """``out[:, t] = x[:, t + steps]``, ``fill`` past the end (steps >= 0)."""
    frames = x.shape[1]
    if steps == 0:
        return x
    if steps >= frames:
        return torch.full_like(x, fill)
    return torch.cat([x[:, steps:], torch.full_like(x[:, :steps], fill)], dim=1)


def _no_frame_left(x: Tensor, steps: int) -> Tensor:
    """(1, T) bool: t + steps is past the video's end."""
    frames = x.shape[1]
    return (torch.arange(frames, device=x.device) + steps >= frames).unsqueeze(0)


def _reduce(sem: Semantics, a: Tensor, start: int | None, stop: int | None, offset: int, universal: bool) -> Tensor:
    """always (universal) / eventually over the window at every frame."""
    empty = EMPTY_MARGIN if universal else -EMPTY_MARGIN
    frames = frames_of(start, stop, a.shape[1], offset)
    if frames.anchored:
        suffix = sem.suffix_min if universal else sem.suffix_max
        return _anchored_suffix(a, frames, suffix, empty)
    if frames.hi is None:
        values = (sem.suffix_min if universal else sem.suffix_max)(a, dim=1)
    elif frames.hi <= frames.lo:  # an offset ate the whole window
        return torch.full_like(a, empty)
    else:
        values = (sem.window_min if universal else sem.window_max)(a, frames.hi - frames.lo)
    return _shift(values, frames.lo, empty)


def _anchored_suffix(a: Tensor, frames: Frames, suffix, empty: float) -> Tensor:
    """Absolute frames [lo, hi) that are >= t + offset: a suffix reduction gathered at each t."""
    lo, hi, num_frames = frames.lo, frames.hi, a.shape[1]
    suff = suffix(a[:, lo:hi], dim=1)  # suff[:, k] aggregates window frames lo+k ..
    first = torch.arange(num_frames, device=a.device) + frames.offset - lo
    gathered = suff[:, first.clamp(0, hi - lo - 1)]
    none_left = (first >= hi - lo).unsqueeze(0)
    return torch.where(none_left, torch.full_like(gathered, empty), gathered)


def always(sem: Semantics, a: Tensor, start: int | None, stop: int | None, offset: int) -> Tensor:
    """A holds at every frame of the window (min)."""
    if a.shape[1] == 1:
        return a
    return _reduce(sem, a, start, stop, offset, universal=True)


def eventually(sem: Semantics, a: Tensor, start: int | None, stop: int | None, offset: int) -> Tensor:
    """A holds at some frame of the window (max)."""
    if a.shape[1] == 1:
        return a
    return _reduce(sem, a, start, stop, offset, universal=False)


def next_(sem: Semantics, a: Tensor, empty: float) -> Tensor:
    """A at the next frame; ``empty`` at the last frame (+1 as written, as rtamt's next;
    -1 once a negation is pushed through it, so ``not next A == next not A`` exactly)."""
    if a.shape[1] == 1:
        return a
    return _shift(a, 1, empty)


def prev(sem: Semantics, a: Tensor, empty: float) -> Tensor:
    """A at the previous frame; ``empty`` at the first frame (as ``next``)."""
    if a.shape[1] == 1:
        return a
    return torch.cat([torch.full_like(a[:, :1], empty), a[:, :-1]], dim=1)


def at_start(sem: Semantics, a: Tensor) -> Tensor:
    """The first frame's value, at every frame."""
    return a[:, :1].expand_as(a)


def at_end(sem: Semantics, a: Tensor) -> Tensor:
    """The last frame's value, at every frame."""
    return a[:, -1:].expand_as(a)


def _until_like(sem: Semantics, a: Tensor, b: Tensor, start: int | None, stop: int | None, strong: bool) -> Tensor:
    """until (strong) and its dual release, over any window, in O(T).

    until[s:e] = eventually[s:e] B and (always[0:s] A and (A until B) at t+s); release dually.
    """
    if a.shape[1] == 1 and b.shape[1] == 1:
        return b  # static: B holds now or never, and the witness j = t needs no A
    a, b = torch.broadcast_tensors(a, b)
    num_frames = a.shape[1]
    frames = frames_of(start, stop, num_frames)
    scan = sem.until_scan if strong else sem.release_scan
    join = (lambda x, y: sem.min(torch.stack([x, y], -1), -1)) if strong else (lambda x, y: sem.max(torch.stack([x, y], -1), -1))
    empty = -EMPTY_MARGIN if strong else EMPTY_MARGIN
    if frames.anchored:  # witnesses: absolute frames [lo, hi) that are >= t
        lo, hi = frames.lo, frames.hi
        inside = scan(a[:, :hi], b[:, :hi])
        parts = [inside[:, lo:]]
        if lo > 0:  # before the window: A (release: dually) up to lo, then the witness range from lo
            before = (sem.suffix_min if strong else sem.suffix_max)(a[:, :lo], dim=1)
            parts.insert(0, join(before, inside[:, lo:lo + 1].expand_as(before)))
        parts.append(torch.full_like(a[:, hi:], empty))
        return torch.cat(parts, dim=1)
    s = frames.lo
    out = _shift(scan(a, b), s, empty)
    if s > 0:
        out = join((sem.window_min if strong else sem.window_max)(a, s), out)
    if frames.hi is not None:
        out = join(_reduce(sem, b, s, frames.hi, 0, universal=not strong), out)
    return torch.where(_no_frame_left(a, s), torch.full_like(out, empty), out)


def until(sem: Semantics, a: Tensor, b: Tensor, start: int | None, stop: int | None) -> Tensor:
    """B holds at some window frame j and A holds at every frame in [now, j)."""
    return _until_like(sem, a, b, start, stop, strong=True)


def release(sem: Semantics, a: Tensor, b: Tensor, start: int | None, stop: int | None) -> Tensor:
    """Dual of until: ``release(a, b) == -until(-a, -b)`` in exact semantics."""
    return _until_like(sem, a, b, start, stop, strong=False)
