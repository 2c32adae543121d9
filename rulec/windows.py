"""Frame windows: the one place where ``[start:stop]`` gets its meaning (torch-free).

STL semantics, as in rtamt, stlcg++ and Breach: a window is **relative** to the frame
``t`` being evaluated. ``[a:b]`` covers frames ``t+a .. t+b-1`` (a half-open slice, so
rtamt's inclusive ``[a, b]`` is our ``[a:b+1]``), ``[a:]`` frames ``t+a`` to the video's
end; frames past the end are simply not there. A rule is evaluated at frame 0, so on a
rule's outermost operator ``[0:5]`` still means "the first five frames".

A bound < 0 counts from the video's end. That only has a meaning where the operator is
evaluated at frame 0 (a rule's outermost temporal operator), and there the window is the
Python slice of absolute frames it always was (``eventually[-2:]``: one of the last two
frames); nested, it is error E303 (:func:`negative_bound_help`).

Each question has one function: :func:`window_text` writes a window, :func:`resolve_window`
says which frames it covers (:func:`frames_of` for the temporal kernels, which need some,
:func:`first_covered` for the reward's traces), :func:`window_misfit` says what is wrong
with it (the checker, with or without the video's length, and the reward, with the video's). Unlike a Python slice, a top-level
bound past either end is an error, not silently clipped.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``(code, message, help)`` of a window that does not fit.
Misfit = tuple[str, str, "str | None"]


def window_text(start: object | None, stop: object | None) -> str:
    """``[start:stop]`` as written, an omitted side left empty (bounds are numbers, or their printed text)."""
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


class WindowError(ValueError):
    """A frame window selects no frame of the video."""


def frames_of(start: int | None, stop: int | None, num_frames: int, offset: int = 0) -> Frames:
    """:func:`resolve_window` for a kernel about to read the frames: ``WindowError`` when the
    window holds none, ``ValueError`` for an offset other than 0 or 1."""
    if offset not in (0, 1):
        raise ValueError(f"temporal offset must be 0 or 1, got {offset!r}")
    frames = resolve_window(start, stop, num_frames, int(offset))
    if frames is None:
        raise WindowError(f"window {window_text(start, stop)} selects no frame of a video with T={num_frames} frames")
    return frames


def window_misfit(start: int | None, stop: int | None, num_frames: int | None,
                  nested: bool = False) -> Misfit | None:
    """``(code, message, help)`` when the window cannot be used, else None.

    With the video's length, a rule's outermost window must lie inside the video; a nested
    (relative) window may run past the end (near the end every window does) but must cover
    some frame. Without it (``num_frames=None``), only what is wrong at every length: a
    nested window counting from the end (E303), or bounds in the wrong order (E301).
    """
    text = window_text(start, stop)
    if nested and is_anchored(start, stop):
        return ("E303", f"window {text} counts from the video's end inside another temporal operator",
                negative_bound_help(start, stop))
    if num_frames is None:
        if start is not None and stop is not None and (start >= 0) == (stop >= 0) and start >= stop:
            return "E301", f"window {text} holds no frame", "the first bound must come before the second, like a Python slice"
        return None
    t = num_frames
    if not nested and ((start is not None and not -t <= start < t) or (stop is not None and not -t <= stop <= t)):
        return "E302", f"window {text} runs past the video ({t} frames)", f"frames are 0..{t - 1}; negative bounds count from the end"
    if resolve_window(start, stop, t) is None:
        return "E301", f"window {text} holds no frame of a {t}-frame video", None
    return None


def first_covered(start: int | None, stop: int | None, num_frames: int) -> tuple[int, int]:
    """The frames ``[lo, hi)`` a rule's outermost window covers (at frame 0, where a rule is
    evaluated): the frames whose values explain its verdict."""
    covered = frames_of(start, stop, num_frames).at(0)
    return covered.start, covered.stop


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
