"""Temporal operators over per-frame margins ``(B, T)``, vectorized over frames.

Windows are Python slices of absolute frames: ``[start:stop]`` with ``None`` open and
negative values counting from the end. The value at frame ``t`` aggregates the window
frames ``>= t + offset`` (``offset`` is 0, or 1 for "strictly later"). Where that range
holds no frame the result is the operator's finite neutral margin (``always`` ->
``+EMPTY_MARGIN``, ``eventually``/``until`` -> ``-EMPTY_MARGIN``, ``release`` -> ``+``).

``always``/``eventually`` are suffix (cumulative) reductions on reversed time: memory
linear in T. ``until``/``release`` build a ``(B, T, T)`` table (frame t x witness j):
memory quadratic in T, which stays small for the video lengths rules run on.

A ``(B, 1)`` input is a static margin: ``always``/``eventually``/``at_start``/``at_end``
return it unchanged (a constant holds at every frame or at none), and ``until``/``release``
of two static margins return B, since the kernel does not see the video length (so the
window of a static operand is not checked against T).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_MARGIN
from rulec.primitives.semantics import Semantics


class WindowError(ValueError):
    """A frame window selects no frame of the video."""


def window_range(start: int | None, stop: int | None, num_frames: int) -> tuple[int, int]:
    """``[start:stop]`` resolved on ``num_frames`` frames as ``(lo, hi)``, or ``WindowError``."""
    lo, hi, _ = slice(start, stop).indices(num_frames)
    if hi <= lo:
        shown = f"[{'' if start is None else start}:{'' if stop is None else stop}]"
        raise WindowError(f"window {shown} selects no frame of a video with T={num_frames} frames")
    return lo, hi


def _check_offset(offset: int) -> int:
    if offset not in (0, 1):
        raise ValueError(f"temporal offset must be 0 or 1, got {offset!r}")
    return int(offset)


def _windowed_suffix(a: Tensor, start, stop, offset, suffix, empty: float) -> Tensor:
    """Frame t gets ``suffix`` of window frames ``>= t + offset``; ``empty`` where none."""
    offset = _check_offset(offset)
    num_frames = a.shape[1]
    lo, hi = window_range(start, stop, num_frames)
    suff = suffix(a[:, lo:hi], dim=1)  # (B, L): suff[:, k] aggregates window frames lo+k ..
    first = torch.arange(num_frames, device=a.device) + offset - lo  # first window index used at t
    gathered = suff[:, first.clamp(0, hi - lo - 1)]
    none_left = (first >= hi - lo).unsqueeze(0)
    return torch.where(none_left, torch.full_like(gathered, empty), gathered)


def always(sem: Semantics, a: Tensor, start=None, stop=None, offset: int = 0) -> Tensor:
    """A holds at every window frame from now on (suffix min)."""
    if a.shape[1] == 1:
        return a
    return _windowed_suffix(a, start, stop, offset, sem.suffix_min, EMPTY_MARGIN)


def eventually(sem: Semantics, a: Tensor, start=None, stop=None, offset: int = 0) -> Tensor:
    """A holds at some window frame from now on (suffix max)."""
    if a.shape[1] == 1:
        return a
    return _windowed_suffix(a, start, stop, offset, sem.suffix_max, -EMPTY_MARGIN)


def at_start(sem: Semantics, a: Tensor) -> Tensor:
    """The first frame's value, at every frame."""
    return a[:, :1].expand_as(a)


def at_end(sem: Semantics, a: Tensor) -> Tensor:
    """The last frame's value, at every frame."""
    return a[:, -1:].expand_as(a)


def _until_table(sem: Semantics, a: Tensor, b: Tensor, start, stop, strong: bool) -> Tensor:
    """Shared body of until (strong=True) and its dual release.

    until:   out_t = max_{j in W, j >= t} min(b_j, min_{t <= i < j} a_i)
    release: out_t = min_{j in W, j >= t} max(b_j, max_{t <= i < j} a_i)
    """
    if a.shape[1] == 1 and b.shape[1] == 1:
        return b  # static: B holds now or never, and the witness j = t needs no A
    a, b = torch.broadcast_tensors(a, b)
    num_frames = a.shape[1]
    lo, hi = window_range(start, stop, num_frames)
    inner_agg, run_agg, outer_agg = (sem.min, sem.cummin, sem.max) if strong else (sem.max, sem.cummax, sem.min)
    frames = torch.arange(num_frames, device=a.device)
    later = frames.unsqueeze(0) >= frames.unsqueeze(1)  # [t, i]: i >= t
    rows = a.unsqueeze(1).expand(-1, num_frames, -1)  # [b, t, i] = a_i
    running = run_agg(rows, dim=2, valid=later)  # [b, t, k] = agg_{t <= i <= k} a_i
    # before[b, t, j] = agg_{t <= i < j} a_i: shift right by one frame (column 0 is never used).
    before = torch.cat([running[:, :, :1], running[:, :, :-1]], dim=2)
    has_before = torch.cat([torch.zeros_like(later[:, :1]), later[:, :-1]], dim=1)  # j - 1 >= t
    pair = torch.stack([b.unsqueeze(1).expand_as(before), before], dim=3)
    pair_valid = torch.stack([torch.ones_like(has_before), has_before], dim=2)
    inner = inner_agg(pair, dim=3, valid=pair_valid.unsqueeze(0))  # [b, t, j]
    in_window = (frames >= lo) & (frames < hi)
    witness = later & in_window.unsqueeze(0)  # [t, j]
    empty = -EMPTY_MARGIN if strong else EMPTY_MARGIN
    return outer_agg(inner, dim=2, valid=witness.unsqueeze(0), empty=empty)


def until(sem: Semantics, a: Tensor, b: Tensor, start=None, stop=None) -> Tensor:
    """B holds at some window frame j >= now and A holds at every frame in [now, j)."""
    return _until_table(sem, a, b, start, stop, strong=True)


def release(sem: Semantics, a: Tensor, b: Tensor, start=None, stop=None) -> Tensor:
    """Dual of until: ``release(a, b) == -until(-a, -b)`` in exact semantics."""
    return _until_table(sem, a, b, start, stop, strong=False)
