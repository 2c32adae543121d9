"""What a ``rulec run`` leaves behind: report.json and a one-page visual report.

The visual report (``report.png``) puts the base sample and the chosen (optimized) video
side by side, large (frames of 150+ px, numbered, the same frame of both on one row), and,
for test-time optimization, the loss per step and one small chart per rule with its exact
robustness per step (a rule passes above the zero line, its base and final value written
on it), so a reader sees what changed and why it stopped. It is laid out in pixels and
saved at 1 image pixel per screen pixel, legible at 100 % zoom.
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


#: Frames of each video in the report, and their smallest side on screen (px).
REPORT_FRAMES = 8
MIN_FRAME_PX = 150
_PASS, _FAIL = "#2e7d32", "#c62828"


def _enlarge(frame: np.ndarray, side: int) -> np.ndarray:
    """A frame with its longer side at about ``side`` px: whole-number nearest-neighbour
    enlargement (flat pixels) when small, an area average when large."""
    h, w = frame.shape[:2]
    if max(h, w) <= side:
        k = max(1, -(-side // max(h, w)))
        return frame.repeat(k, 0).repeat(k, 1)
    from PIL import Image

    scale = side / max(h, w)
    return np.asarray(Image.fromarray(frame).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BOX))


def render_visual_report(
    before: np.ndarray,
    after: np.ndarray,
    history: list[dict[str, Any]] | None,
    title: str,
    after_label: str | None = None,
    verdicts: tuple[dict[str, Any], dict[str, Any]] | None = None,
):
    """The report as a matplotlib figure laid out in pixels at 100 dpi: base and chosen video
    side by side (frame t of both on one row), then the loss and one chart per rule; without
    a history, ``verdicts`` (the base's and the chosen video's) give each rule's robustness
    for both as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    dpi, margin, gap, mid, max_width = 100, 24, 10, 40, 1600
    probe = _enlarge(before[0], MIN_FRAME_PX)
    fw, fh = probe.shape[1], probe.shape[0]
    per_side = max(2, min(REPORT_FRAMES // 2, (max_width - 2 * margin - mid) // 2 // (fw + gap)))
    count = min(2 * per_side, max(len(before), len(after)))
    picks = {
        "before": np.linspace(0, len(before) - 1, min(count, len(before))).round().astype(int),
        "after": np.linspace(0, len(after) - 1, min(count, len(after))).round().astype(int),
    }
    cells = {key: [_enlarge(v[t], MIN_FRAME_PX) for t in picks[key]] for key, v in (("before", before), ("after", after))}
    fw = max(c.shape[1] for c in cells["before"] + cells["after"])
    fh = max(c.shape[0] for c in cells["before"] + cells["after"])
    side_w = per_side * fw + (per_side - 1) * gap
    width = max(1200, 2 * margin + 2 * side_w + mid)
    frame_rows = -(-max(len(picks["before"]), len(picks["after"])) // per_side)
    row_h = fh + 34
    rules = history[0]["rules"] if history else []
    chart_cols = 3
    chart_rows = -(-len(rules) // chart_cols) if rules else 0
    chart_h, loss_h = 170, 210
    bars_h = 300 if verdicts and not history else 0
    height = margin + 50 + 30 + frame_rows * row_h + (30 + loss_h + 60 + chart_rows * (chart_h + 40) if history else 0) + bars_h + margin
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)

    def axes(x0, top, wpx, hpx, label):
        return fig.add_axes((x0 / width, (top - hpx) / height, wpx / width, hpx / height), label=label)

    y = height - margin
    fig.text(margin / width, (y - 30) / height, title, fontsize=17, weight="bold")
    y -= 50
    lefts = {"before": margin, "after": margin + side_w + mid}
    labels = {"before": "base sample (before)", "after": after_label or ("optimized (chosen step)" if history else "chosen video")}
    for key in ("before", "after"):
        fig.text(lefts[key] / width, (y - 20) / height, labels[key], fontsize=14, weight="bold")
    y -= 30
    for key in ("before", "after"):
        for k, (t, cell) in enumerate(zip(picks[key], cells[key])):
            row, col = divmod(k, per_side)
            top = y - row * row_h - 22
            ax = axes(lefts[key] + col * (fw + gap), top, cell.shape[1], cell.shape[0], f"{key} frame {t}")
            ax.imshow(cell, interpolation="none", aspect="auto")
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#37474f"), spine.set_linewidth(1.5)
            ax.set_title(f"frame {t}", fontsize=12, pad=3)
    line_x = (margin + side_w + mid / 2) / width
    fig.add_artist(matplotlib.lines.Line2D([line_x, line_x], [(y - frame_rows * row_h) / height, (y + 26) / height],
                                           color="#90a4ae", lw=2))
    y -= frame_rows * row_h
    if not history:
        if verdicts:
            _verdict_bars(fig, axes, verdicts, margin, y - 20, width - 2 * margin, bars_h - 20, width, height)
        return fig

    steps = [h["step"] for h in history]
    y -= 30
    fig.text(margin / width, (y + 4) / height, "Loss per optimization step (lower is better)", fontsize=14, weight="bold")
    ax = axes(margin + 60, y - 10, width - 2 * margin - 80, loss_h - 50, "loss")
    ax.plot(steps, [h["loss"] for h in history], lw=2.5, color="#4a148c", marker="o", ms=5)
    ax.set_xlabel("optimization step", fontsize=12)
    ax.set_ylabel("loss", fontsize=12)
    ax.tick_params(labelsize=11)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    y -= loss_h + 40
    fig.text(margin / width, (y + 4) / height, "Each rule's exact robustness per step (above 0 = passes)", fontsize=14, weight="bold")
    y -= 10
    cw = (width - 2 * margin - (chart_cols - 1) * 60) // chart_cols
    for i, rule in enumerate(rules):  # the verdict's rule list: same order at every step
        row, col = divmod(i, chart_cols)
        values = [h["rules"][i]["robustness"] for h in history]
        passed = [h["rules"][i]["passed"] for h in history]
        ax = axes(margin + 50 + col * (cw + 60), y - row * (chart_h + 40) - 30, cw - 50, chart_h - 30, f"rule {rule['name']}")
        lo, hi = min(-0.25, *values), max(0.25, *values)
        pad = 0.12 * (hi - lo)
        ax.axhspan(0, hi + pad, color="#e8f5e9", zorder=0)
        ax.axhspan(lo - pad, 0, color="#fdecea", zorder=0)
        ax.axhline(0, color="black", lw=1)
        ax.plot(steps, values, lw=2.5, color="#0d47a1", zorder=2)
        ax.scatter(steps, values, s=30, c=[_PASS if p else _FAIL for p in passed], edgecolors="black", linewidths=0.6, zorder=3)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(steps[0] - 0.5, steps[-1] + 0.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
        ax.tick_params(labelsize=10.5)
        verdict = "pass" if passed[-1] else "FAIL"
        ax.set_title(f"{rule.get('kind', '')} {rule['name']}: {values[0]:+.2f} -> {values[-1]:+.2f} ({verdict})".strip(),
                     fontsize=11, loc="left", color=_PASS if passed[-1] else _FAIL, weight="bold")
        if row == chart_rows - 1 or i + chart_cols >= len(rules):
            ax.set_xlabel("optimization step", fontsize=11)
    return fig


def _verdict_bars(fig, axes, verdicts, x0, top, wpx, hpx, width, height) -> None:
    """Each rule's exact robustness for the base sample and the chosen video, side by side."""
    base, chosen = verdicts
    names = [r["name"] for r in chosen["rules"]]
    old = {r["name"]: r for r in base["rules"]}
    fig.text(x0 / width, (top + 4) / height, "Each rule's exact robustness (above 0 = passes)", fontsize=14, weight="bold")
    ax = axes(x0 + 60, top - 20, wpx - 80, hpx - 70, "verdicts")
    x = np.arange(len(names))
    for shift, data, colour, label in ((-0.2, [old.get(n, {}).get("robustness", np.nan) for n in names], "#90a4ae", "base sample"),
                                       (0.2, [r["robustness"] for r in chosen["rules"]], "#0d47a1", "chosen video")):
        bars = ax.bar(x + shift, data, width=0.38, color=colour, label=label)
        ax.bar_label(bars, fmt="%+.2f", fontsize=10.5, padding=2)
    ax.axhline(0, color="black", lw=1)
    ax.set_xticks(x, [f"{n}\n{'pass' if r['passed'] else 'FAIL'}" for n, r in zip(names, chosen["rules"])], fontsize=11.5)
    for tick, r in zip(ax.get_xticklabels(), chosen["rules"]):
        tick.set_color(_PASS if r["passed"] else _FAIL)
    ax.tick_params(axis="y", labelsize=11)
    ax.set_ylabel("robustness", fontsize=12)
    ax.legend(fontsize=11, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
    ax.margins(y=0.2)


def write_visual_report(
    path: Path,
    before: np.ndarray,
    after: np.ndarray,
    history: list[dict[str, Any]] | None,
    title: str,
    verdicts: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> Path:
    """A PNG: base and chosen video side by side and (if given) the loss and each rule per
    optimization step, or, without a history, each rule's robustness for both videos."""
    import matplotlib.pyplot as plt

    fig = render_visual_report(before, after, history, title, verdicts=verdicts)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
