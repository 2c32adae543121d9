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
    #: W003 warnings: declarations that match nothing in the first frame (the verdict stands)
    warnings: tuple = ()

    def __post_init__(self) -> None:
        if self.frames is not None:
            self.num_frames = int(self.frames.shape[0])

    def to_json(self) -> dict:
        data = {"rules_file": self.compiled.source_name, "frames": self.num_frames, **self.report.to_json(0)}
        if self.warnings:
            data["warnings"] = [w.to_json() for w in self.warnings]
        return data


#: How many of the first frame's commonest colours a W003 warning names.
WARNING_COLOURS = 4


def first_frame_warnings(compiled: CompiledRules, first: np.ndarray) -> tuple:
    """W003 for each object or region declaration whose mask is empty on the first frame
    ``(H, W, 3)`` uint8, naming the colours the frame does hold (its commonest flat colours)."""
    from rulec.diagnostics import warning
    from rulec.primitives.detectors import frame_palette
    from rulec.primitives.kernels import KERNELS
    from rulec.primitives.semantics import Exact
    from rulec.reward import GraphInputs, named_colours

    start = frames_to_tensor(first[None])
    inputs = GraphInputs.of(start, start, named_colours(compiled))
    values: dict = {}
    sem = Exact()
    with torch.no_grad():
        for node in compiled.nodes:
            if node.kind.value == "mask" and all(r in values for r in node.refs()):
                values[node.id] = KERNELS[node.op](sem, *inputs.for_node(node), *node.arg_values(values))
    found = []
    palette = None
    for d in compiled.declarations:
        if d.role not in ("object", "region") or d.node not in values or bool((values[d.node] > 0.5).any()):
            continue
        if palette is None:
            rgb = (frame_palette(start[0, 0]) * 255).round().to(torch.int64).tolist()
            palette = ", ".join("#%02x%02x%02x" % tuple(c) for c in rgb[:WARNING_COLOURS]) or "none (no flat colour)"
        found.append(warning("W003", f"{d.role} '{d.name}' matches nothing in the first frame", d.span,
                             f"the first frame's commonest colours: {palette}"))
    return tuple(found)


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
    return CheckResult(compiled, frames, report, warnings=first_frame_warnings(compiled, frames[0]))


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
    first: list[np.ndarray] = []

    def chunks():
        for chunk in iter_video(video_path, chunk_frames_for):
            if not first:
                first.append(chunk[0].copy())
            yield chunk

    num_frames = evaluator.feed(chunks())
    compiled = compile_rules(rules_path, num_frames=num_frames)  # window diagnostics, as for a whole video
    return CheckResult(compiled, None, evaluator.finish(), num_frames, warnings=first_frame_warnings(compiled, first[0]))


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
