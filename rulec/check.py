"""Score a video file against a rules file: the library behind ``rulec check`` and ``rulec explain``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rulec.ir import CompiledRules
from rulec.reward import RewardReport


@dataclass
class CheckResult:
    """A compiled rules file, the video it judged, and the exact report."""

    compiled: CompiledRules
    frames: np.ndarray | None  # (T, H, W, 3) uint8; None when the video was streamed (no pixels kept)
    report: RewardReport
    num_frames: int = 0  # the video's length (taken from ``frames`` when they are kept)

    def __post_init__(self) -> None:
        if self.frames is not None:
            self.num_frames = int(self.frames.shape[0])

    def to_json(self) -> dict:
        return {"rules_file": self.compiled.source_name, "frames": self.num_frames, **self.report.to_json(0)}


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 -> ``(1, T, 3, H, W)`` float in [0, 1]."""
    from rulec.frames import to_float

    return to_float(frames).unsqueeze(0)


def check_frames(compiled: CompiledRules, frames: np.ndarray) -> CheckResult:
    """Exact verdicts of ``compiled`` on one video of uint8 frames, every node's values kept
    (a visual report draws the masks, so the video is never evaluated in chunks here)."""
    reward = compiled.to_reward(semantics="exact", whole_pixels=None)
    with torch.no_grad():
        report = reward(frames_to_tensor(frames))
    return CheckResult(compiled, frames, report)


def check_file(rules_path: str | Path, video_path: str | Path, *, keep_frames: bool = True) -> CheckResult:
    """Read both files, compile the rules for the video's length, and judge it.

    ``keep_frames=False`` streams the video (:mod:`rulec.stream`): the same verdicts in
    memory O(T + one chunk), with no frames or masks kept for a visual report.
    Raises ``RulesError`` (rules do not compile or do not fit the video) or
    ``VideoReadError`` (the video cannot be read), the video's error first as before.
    """
    from rulec import compile_rules
    from rulec.runtime.video_io import read_video

    if not keep_frames:
        streamed = _check_streamed(Path(rules_path), video_path)
        if streamed is not None:
            return streamed
    frames = read_video(video_path)
    compiled = compile_rules(Path(rules_path), num_frames=int(frames.shape[0]))
    return check_frames(compiled, frames)


def _check_streamed(rules_path: Path, video_path: str | Path) -> CheckResult | None:
    """:func:`check_file` streamed; None when the rules need the whole video (``ask()``)."""
    from rulec import compile_rules
    from rulec.diagnostics import RulesError
    from rulec.runtime.video_io import iter_video
    from rulec.stream import StreamingEvaluator, chunk_frames_for

    try:
        draft = compile_rules(rules_path)  # the graph; windows are checked against T below
    except RulesError as err:
        for _ in iter_video(video_path, chunk_frames_for):  # an unreadable video is reported first, as before
            pass
        raise err from None
    try:
        evaluator = StreamingEvaluator(draft)
    except ValueError:
        return None
    num_frames = evaluator.feed(iter_video(video_path, chunk_frames_for))
    compiled = compile_rules(rules_path, num_frames=num_frames)  # window diagnostics, as for a whole video
    return CheckResult(compiled, None, evaluator.finish(), num_frames)


def frame_ranges(frames: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"`` (``"-"`` for none)."""
    if not frames:
        return "-"
    runs, start = [], frames[0]
    for prev, cur in zip(frames, [*frames[1:], None]):
        if cur is None or cur != prev + 1:
            runs.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ", ".join(runs)
