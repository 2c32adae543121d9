"""What a ``rulec run`` leaves behind: report.json and a one-page visual report.

The visual report (``report.png``) shows the base sample and the chosen video as filmstrips
and, for test-time optimization, each rule's exact robustness over the optimization steps
(a rule passes above the zero line), so a reader sees what changed and why it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

REPORT_JSON = "report.json"
REPORT_PNG = "report.png"


def to_uint8(video) -> np.ndarray:
    """(T, 3, H, W) float tensor in [0, 1] -> (T, H, W, 3) uint8."""
    from rulec.frames import to_uint8 as frames_to_uint8

    return frames_to_uint8(video)


def filmstrip(frames: np.ndarray, max_frames: int = 16, min_size: int = 96) -> np.ndarray:
    """Frames (T, H, W, 3) side by side (evenly subsampled to at most ``max_frames``), each
    enlarged (nearest) to at least ``min_size`` pixels and framed by 3-px dark grey gaps, so
    white scenes stay apart on a white page."""
    idx = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    scale = max(1, -(-min_size // max(frames.shape[1:3])))
    h, w = frames.shape[1] * scale, frames.shape[2] * scale
    gap = 3
    strip = np.full((h + 2 * gap, len(idx) * (w + gap) + gap, 3), 90, dtype=np.uint8)
    for k, i in enumerate(idx):
        x = gap + k * (w + gap)
        strip[gap:gap + h, x:x + w] = frames[i].repeat(scale, 0).repeat(scale, 1)
    return strip


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def write_visual_report(
    path: Path,
    before: np.ndarray,
    after: np.ndarray,
    history: list[dict[str, Any]] | None,
    title: str,
) -> Path:
    """A PNG: before/after filmstrips and (if given) per-rule robustness per optimization step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = 3 if history else 2
    fig = plt.figure(figsize=(12, 2.2 * rows + 0.6))
    grid = fig.add_gridspec(rows, 1, height_ratios=[1, 1, 2][:rows])
    for r, (label, frames) in enumerate((("before (base sample)", before), ("after", after))):
        ax = fig.add_subplot(grid[r])
        ax.imshow(filmstrip(frames), interpolation="nearest")
        ax.set_title(label, loc="left", fontsize=9)
        ax.axis("off")
    if history:
        ax = fig.add_subplot(grid[2])
        steps = [h["step"] for h in history]
        for i, rule in enumerate(history[0]["rules"]):  # the verdict's rule list: same order at every step
            ax.plot(steps, [h["rules"][i]["robustness"] for h in history], marker="o", ms=3, label=rule["name"])
        ax.axhline(0.0, color="black", lw=0.8)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("optimization step")
        ax.set_ylabel("exact robustness (> 0 passes)")
        ax.legend(fontsize=7, ncol=3, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
