"""A visual report of a check: where each object went, where each rule failed.

Top: a filmstrip of the video with each object's centroid track drawn on every frame and
each region outlined. Bottom: every rule's exact per-frame values (above zero = holds),
with the frames where it fails shaded. Written as PNG, or as an HTML page embedding
that PNG and the verdict table.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from rulec.check import CheckResult, frame_ranges

_TRACK_COLOURS = ("#ffeb3b", "#00e5ff", "#ff4081", "#76ff03", "#ffffff")
_MAX_STRIP = 16


def _centroids(mask: np.ndarray) -> np.ndarray:
    """(T, H, W) mask -> (T, 2) pixel centroids (NaN where empty)."""
    t, h, w = mask.shape
    mass = mask.reshape(t, -1).sum(-1)
    ys, xs = np.mgrid[0:h, 0:w]
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (mask * (xs + 0.5)).reshape(t, -1).sum(-1) / mass
        cy = (mask * (ys + 0.5)).reshape(t, -1).sum(-1) / mass
    return np.stack([cx, cy], -1)


def render_figure(result: CheckResult):
    """The matplotlib figure of a check result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = result.frames
    num_frames = frames.shape[0]
    shown = np.unique(np.linspace(0, num_frames - 1, min(num_frames, _MAX_STRIP)).round().astype(int))
    compiled, report = result.compiled, result.report

    objects, regions = [], []
    for decl in compiled.declarations:
        if decl.role not in ("object", "region"):
            continue
        value = report.values.get(decl.node)
        if value is None:
            continue
        mask = value[0].detach().float().cpu().numpy()
        (objects if decl.role == "object" else regions).append((decl.name, np.broadcast_to(mask, (num_frames, *mask.shape[1:]))))

    fig = plt.figure(figsize=(max(8, 1.25 * len(shown)), 4.6 + 0.2 * len(report.rules)), dpi=110)
    grid = fig.add_gridspec(2, len(shown), height_ratios=[1.2, 1.6])
    tracks = {name: _centroids(mask) for name, mask in objects}
    for col, t in enumerate(shown):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(frames[t], interpolation="nearest")
        for i, (name, mask) in enumerate(regions):
            if mask[t].max() > 0.5 and mask[t].min() < 0.5:
                ax.contour(mask[t], levels=[0.5], colors=[_TRACK_COLOURS[(i + 2) % len(_TRACK_COLOURS)]], linewidths=0.8)
        for i, (name, track) in enumerate(tracks.items()):
            colour = _TRACK_COLOURS[i % len(_TRACK_COLOURS)]
            ax.plot(track[: t + 1, 0] - 0.5, track[: t + 1, 1] - 0.5, "-", color=colour, lw=0.8)
            if np.isfinite(track[t]).all():
                ax.plot(track[t, 0] - 0.5, track[t, 1] - 0.5, "+", color=colour, ms=6)
        ax.set_title(f"t={t}", fontsize=7)
        ax.axis("off")

    ax = fig.add_subplot(grid[1, :])
    x = np.arange(num_frames)
    for i, rule in enumerate(report.rules):
        trace = rule.trace[0].detach().float().cpu().numpy()
        verdict = "pass" if bool(rule.passed[0]) else "FAIL"
        line = ax.plot(x, trace, marker="o", ms=3, label=f"{rule.kind} {rule.name}: {verdict} ({float(rule.exact[0]):+.2f})")[0]
        for t in rule.failed_frames(0):
            ax.axvspan(t - 0.5, t + 0.5, color=line.get_color(), alpha=0.08)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("frame")
    ax.set_ylabel("exact value (> 0 holds)")
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    legend = ", ".join(f"{name} track" for name in tracks) or "no objects"
    fig.suptitle(f"{compiled.source_name}: {'PASS' if bool(report.passed[0]) else 'FAIL'}  ({legend}; regions outlined)", fontsize=9)
    fig.tight_layout()
    return fig


def write_report(result: CheckResult, out: str | Path) -> Path:
    """Write the report as ``.png`` or ``.html`` (chosen by the suffix)."""
    out = Path(out)
    fig = render_figure(result)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    png = buffer.getvalue()
    if out.suffix.lower() == ".png":
        out.write_bytes(png)
        return out
    rows = "".join(
        f"<tr><td>{html.escape(r['kind'])}</td><td>{html.escape(r['name'])}</td>"
        f"<td class={'pass' if r['passed'] else 'fail'}>{'pass' if r['passed'] else 'FAIL'}</td>"
        f"<td>{r['robustness']:+.3f}</td><td>{html.escape(frame_ranges(r['failed_frames']))}</td></tr>"
        for r in result.report.to_json(0)["rules"]
    )
    verdict = "PASS" if bool(result.report.passed[0]) else "FAIL"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>rulec explain: {html.escape(result.compiled.source_name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:2px 10px;text-align:left}} .pass{{color:#2e7d32}} .fail{{color:#c62828;font-weight:bold}}</style></head>
<body><h1>{html.escape(result.compiled.source_name)}: {verdict}</h1>
<table><tr><th>kind</th><th>rule</th><th>verdict</th><th>robustness</th><th>failing frames</th></tr>{rows}</table>
<img alt="filmstrip and per-rule values" src="data:image/png;base64,{base64.b64encode(png).decode()}"></body></html>"""
    out.write_text(page, encoding="utf-8")
    return out

