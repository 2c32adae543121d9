"""Frame windows: the one place where ``[start:stop]`` gets its meaning (torch-free).

STL semantics, as in rtamt, stlcg++ and Breach: a window is **relative** to the frame
``t`` being evaluated. ``[a:b]`` covers frames ``t+a .. t+b-1`` (a half-open slice, so
rtamt's inclusive ``[a, b]`` is our ``[a:b+1]``), ``[a:]`` frames ``t+a`` to the video's
end; frames past the end are simply not there. A rule is evaluated at frame 0, so on a
rule's outermost operator ``[0:5]`` still means "the first five frames".

A bound < 0 counts from the video's end. That only has a meaning where the operator is
evaluated at frame 0 (a rule's outermost temporal operator), and there the window is the
Python slice of absolute frames it always was (``eventually[-2:]``: one of the last two
frames); nested, it is error E303 (the checker finds it, :func:`negative_bound_help`).

The checker (length known at compile time) and the reward (length known from the video)
share :func:`window_misfit`; unlike a Python slice, a top-level bound past either end is
an error, not silently clipped.
"""

from __future__ import annotations

from dataclasses import dataclass


def window_text(start: int | None, stop: int | None) -> str:
    return f"[{'' if start is None else start}:{'' if stop is None else stop}]"


def is_anchored(start: int | None, stop: int | None) -> bool:
    """A window with a negative bound is counted from the video's end (absolute frames)."""
    return (start is not None and start < 0) or (stop is not None and stop < 0)


@dataclass(frozen=True)
class Frames:
    """A window resolved on a ``num_frames``-frame video: which frames it covers at frame t.

    Relative (``anchored=False``): frames ``t+lo .. t+hi-1`` (``hi=None``: to the end).
    Anchored: absolute frames ``lo .. hi-1`` that are ``>= t + offset``.
    """

    anchored: bool
    lo: int
    hi: int | None
    num_frames: int
    offset: int = 0

    def at(self, t: int) -> range:
        """The frames the window covers when evaluated at frame ``t``."""
        if self.anchored:
            return range(max(self.lo, t + self.offset), self.hi)
        end = self.num_frames if self.hi is None else min(self.num_frames, t + self.hi)
        return range(t + self.lo, end)


def resolve_window(start: int | None, stop: int | None, num_frames: int, offset: int = 0) -> Frames | None:
    """``[start:stop]`` on ``num_frames`` frames (``offset`` 1: strictly after t), or None when
    the window as written covers no frame even at frame 0 (so at no frame)."""
    t = num_frames
    if is_anchored(start, stop):
        lo, hi, _ = slice(start, stop).indices(t)
        return Frames(True, lo, hi, t, offset) if hi > lo else None
    lo = 0 if start is None else start
    if lo >= t or (stop is not None and stop <= lo):
        return None
    return Frames(False, max(lo, offset), stop, t)


def window_misfit(start: int | None, stop: int | None, num_frames: int, nested: bool = False) -> tuple[str, str, str | None] | None:
    """``(code, message, help)`` when the window does not fit ``num_frames`` frames, else None.

    A rule's outermost window must lie inside the video; a nested (relative) window may run
    past the end (near the end every window does) but must cover some frame.
    """
    text, t = window_text(start, stop), num_frames
    if nested:
        if is_anchored(start, stop):
            return "E303", f"window {text} counts from the video's end inside another temporal operator", negative_bound_help(start, stop)
        if resolve_window(start, stop, t) is None:
            return "E301", f"window {text} holds no frame of a {t}-frame video", None
        return None
    if (start is not None and not -t <= start < t) or (stop is not None and not -t <= stop <= t):
        return "E302", f"window {text} runs past the video ({t} frames)", f"frames are 0..{t - 1}; negative bounds count from the end"
    if resolve_window(start, stop, t) is None:
        return "E301", f"window {text} holds no frame of a {t}-frame video", None
    return None


def negative_bound_help(start: int | None, stop: int | None) -> str:
    """The suggested rewrite for a negative bound on a nested operator."""
    rewrite = ""
    if start is not None and start < 0 and stop is None:
        k = -start
        rewrite = (f"for 'within the next {k} frames' write [0:{k}]; for 'in the last {k} frames of the video' "
                   f"put that operator in a rule of its own (goal g : eventually{window_text(start, stop)} ...)")
    return ("a nested window counts from the frame being evaluated, so it cannot count from the video's end; "
            + (rewrite or "use bounds >= 0 (relative frames), or move the operator to a rule's top level, "
                          "where negative bounds count from the end"))
