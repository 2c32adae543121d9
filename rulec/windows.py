"""Does a ``[start:stop]`` frame window fit a video of known length? (torch-free)

One rule for the checker (length known at compile time) and the reward (length known
from the video): unlike a Python slice, a bound past either end is an error, not
silently clipped.
"""

from __future__ import annotations


def window_text(start: int | None, stop: int | None) -> str:
    return f"[{'' if start is None else start}:{'' if stop is None else stop}]"


def window_misfit(start: int | None, stop: int | None, num_frames: int) -> tuple[str, str, str | None] | None:
    """``(code, message, help)`` when the window does not fit ``num_frames`` frames, else None."""
    text, t = window_text(start, stop), num_frames
    if (start is not None and not -t <= start < t) or (stop is not None and not -t <= stop <= t):
        return "E302", f"window {text} runs past the video ({t} frames)", f"frames are 0..{t - 1}; negative bounds count from the end"
    if not range(*slice(start, stop).indices(t)):
        return "E301", f"window {text} holds no frame of a {t}-frame video", None
    return None
