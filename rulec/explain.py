"""A visual report of a check: where each object went, where and why each rule failed.

What is drawn, for the HTML page and the PNG alike:

* **frames**, large and numbered, each object's centroid track drawn on them (a bright
  line on a dark casing, a dot where the object is now) and each region outlined (a bright
  ring on a dark casing), so both stand out on white and on coloured scenes. Frames where a
  rule does not hold have a red border and name the rule; for a goal that never holds
  (an ``eventually``), the frame where it came closest has an amber border instead of
  every frame turning red;
* **the failing frames enlarged**: for each failing rule its worst frame and where each
  failing run starts (or, for a goal never met, where it came closest);
* **one row per rule**: the rule's own robustness over time, i.e. the exact value of the
  rule's formula evaluated from frame t (its verdict is the value at frame 0, where rules
  are evaluated), with the per-frame condition inside the rule's outer temporal operator
  dashed beside it, and that operator's failing frames marked under the curve.

``.html`` is one self-contained page that fits the browser window (no sideways scrolling
from 1400 px down to laptop widths; the legend stays pinned on top); ``.png`` is one
picture laid out at 1 image pixel per screen pixel (frames of 150+ px, text of 13+ px).
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rulec.check import CheckResult, frame_ranges
from rulec.primitives.colours import hex_to_rgb

#: Bright core colours of tracks and region outlines (each drawn on a dark casing).
_PALETTE = ("#ff1f8e", "#00e5ff", "#ffea00", "#76ff03", "#ff6d00", "#e040fb", "#ffffff", "#2979ff")
_CASING = "#101010"
_FAIL = "#d50000"
_CLOSEST = "#ff8f00"
_SIGNAL = "#0d47a1"
_BODY = "#616161"
#: ops whose operand is the per-frame condition (the trace the verdict's failing frames read)
_WRAPPERS = {"always": "always", "eventually": "eventually", "at_start": "at start", "at_end": "at end"}

_HTML_FRAME = 256  # px, the longer side of a filmstrip frame in the page
_HTML_ZOOM = 512  # px, an enlarged failing frame
_HTML_ALL_FRAMES = 64  # show every frame up to this length, else an even subsample (+ key frames)
_HTML_SUBSAMPLE = 48
_PNG_FRAME = 150  # px, at least, the longer side of a frame in the PNG
_PNG_STRIP = 16  # frames in the PNG's filmstrip (+ key frames)
_PNG_COLUMNS = 8
_PNG_ZOOMS = 4
_MAX_ZOOMS = 8


# ---------------------------------------------------------------------- what to draw
@dataclass
class Thing:
    """An object (tracked) or a region (outlined) of the rules, with its colour."""

    name: str
    role: str  # "object" | "region"
    colour: str
    mask: np.ndarray  # (T or 1, H, W) float
    track: np.ndarray | None = None  # (T, 2) centroid (x, y) in pixels, NaN where empty

    def at(self, t: int) -> np.ndarray:
        return self.mask[min(t, len(self.mask) - 1)] > 0.5


@dataclass
class RuleView:
    """One rule as the report shows it."""

    index: int
    name: str
    kind: str
    text: str
    weight: float
    passed: bool
    robustness: float  # the verdict's exact robustness (= signal[0])
    signal: np.ndarray  # (T,) the rule's exact robustness evaluated from each frame
    body: np.ndarray | None  # (T,) the condition inside the outer temporal operator, if any
    outer: str | None  # that operator, as written ("always", "eventually", ...)
    window: tuple[int, int]  # frames [lo, hi) the outer operator covers
    failed: list[int]  # the verdict's failing frames
    never: bool = False  # a goal that holds at no frame of its window (eventually)
    closest: int | None = None  # where such a goal came closest
    worst: int | None = None  # a failing rule's worst frame
    starts: list[int] = field(default_factory=list)  # where each failing run starts

    @property
    def anchor(self) -> str:
        return f"rule-{self.index}"


@dataclass
class Explained:
    """Everything the report draws, taken from a check result."""

    source: str  # what was judged: "RULES on VIDEO" (or the rules file's name)
    passed: bool
    frames: np.ndarray  # (T, H, W, 3) uint8
    things: list[Thing]
    rules: list[RuleView]

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def objects(self) -> list[Thing]:
        return [t for t in self.things if t.role == "object"]

    @property
    def regions(self) -> list[Thing]:
        return [t for t in self.things if t.role == "region"]

    def failing_at(self, t: int) -> list[RuleView]:
        """Rules whose failure is located at frame ``t`` (a never-met goal is not located)."""
        return [r for r in self.rules if not r.never and t in r.failed]

    def closest_at(self, t: int) -> list[RuleView]:
        return [r for r in self.rules if r.never and r.closest == t]

    def key_frames(self) -> dict[int, list[str]]:
        """Frames worth enlarging -> what happens there, most telling first, at most ``_MAX_ZOOMS``."""
        notes: dict[int, list[str]] = {}
        ranked: list[tuple[int, int, str]] = []  # (priority, frame, note)
        for r in self.rules:
            if r.passed:
                continue
            if r.never and r.closest is not None:
                ranked.append((1, r.closest, f"{r.name}: closest to holding ({r.body[r.closest]:+.2f}), never holds"))
            if r.worst is not None:
                ranked.append((0, r.worst, f"{r.name} fails, worst frame ({_trace(r)[r.worst]:+.2f})"))
            for s in r.starts:
                if s != r.worst:
                    ranked.append((2, s, f"{r.name} starts failing"))
        for _, t, note in sorted(ranked, key=lambda x: x[0]):
            if t not in notes and len(notes) >= _MAX_ZOOMS:
                continue
            notes.setdefault(t, []).append(note)
        return dict(sorted(notes.items()))


def _trace(rule: RuleView) -> np.ndarray:
    return rule.body if rule.body is not None else rule.signal


def _runs(frames: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for t in frames:
        if runs and t == runs[-1][-1] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def _centroids(mask: np.ndarray) -> np.ndarray:
    """(T, H, W) mask -> (T, 2) pixel centroids (NaN where empty), without (T, H, W) temporaries."""
    mass = mask.sum(axis=(1, 2))
    xs = np.arange(mask.shape[2]) + 0.5
    ys = np.arange(mask.shape[1]) + 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (mask.sum(axis=1) * xs).sum(-1) / mass
        cy = (mask.sum(axis=2) * ys).sum(-1) / mass
    out = np.stack([cx, cy], -1)
    out[mass <= 1e-6] = np.nan
    return out


def _pick_colour(frames: np.ndarray, mask: np.ndarray, used: list[str]) -> str:
    """The palette colour farthest from the thing's own colour (its mean pixel), not yet used."""
    inside = mask > 0.5
    if len(mask) == 1:
        pixels = frames[0][inside[0]]
    else:
        pixels = frames[: len(mask)][inside[: len(frames)]]
    free = [c for c in _PALETTE if c not in used] or list(_PALETTE)
    if not len(pixels):
        return free[0]
    own = pixels.reshape(-1, 3).astype(float).mean(0)
    return max(free, key=lambda c: float(np.linalg.norm(np.array(_rgb(c), float) - own)))


def _row(value, num_frames: int) -> np.ndarray:
    arr = value[0].detach().float().cpu().numpy().reshape(-1)
    return np.broadcast_to(arr, (num_frames,)).copy() if arr.size == 1 else arr[:num_frames].copy()


def explain(result: CheckResult, video: str | Path | None = None) -> Explained:
    """What the report shows, from a check that kept its frames (``video``: its name, for the title)."""
    if result.frames is None:
        raise ValueError("a visual report needs the video's frames: check with keep_frames=True")
    frames, compiled, report = result.frames, result.compiled, result.report
    num_frames = int(frames.shape[0])
    things: list[Thing] = []
    for decl in compiled.declarations:
        value = report.values.get(decl.node)
        if decl.role not in ("object", "region") or value is None:
            continue
        mask = value[0].detach().float().cpu().numpy()
        mask = mask.reshape(-1, *mask.shape[-2:])
        thing = Thing(decl.name, decl.role, _pick_colour(frames, mask, [t.colour for t in things]), mask)
        if decl.role == "object":
            thing.track = _centroids(np.broadcast_to(mask, (num_frames, *mask.shape[1:])))
        things.append(thing)

    rules: list[RuleView] = []
    for i, (ir, res) in enumerate(zip(compiled.rules, report.rules)):
        root = compiled.nodes[ir.root]
        signal = _row(report.values[ir.root], num_frames)  # the rule's formula at every frame
        outer = _WRAPPERS.get(root.op)
        body = res.trace[0].detach().float().cpu().numpy()[:num_frames].copy() if outer else None
        window = res.window or (0, num_frames)
        view = RuleView(i, ir.name, ir.kind, ir.text, float(ir.weight), bool(res.passed[0]), float(res.exact[0]),
                        signal, body, outer, window, res.failed_frames(0))
        if not view.passed:
            lo, hi = window
            if root.op == "eventually" and body is not None:
                view.never = True
                view.closest = lo + int(np.argmax(body[lo:hi]))
            elif view.failed:
                trace = _trace(view)
                view.worst = min(view.failed, key=lambda t: float(trace[t]))
                view.starts = [run[0] for run in _runs(view.failed)][:3]
        rules.append(view)
    source = compiled.source_name + (f" on {Path(video).name}" if video is not None else "")
    return Explained(source, bool(report.passed[0]), frames, things, rules)


# ---------------------------------------------------------------------- frames
def _rgb(colour: str) -> tuple[int, int, int]:
    return hex_to_rgb(colour)


def frame_scale(shape: tuple[int, int], size: int) -> float:
    """Output pixels per video pixel so the frame's longer side is about ``size`` px:
    a whole number when enlarging (each pixel stays one flat square)."""
    side = max(shape)
    return float(max(1, size // side)) if side <= size else size / side


def draw_frame(ex: Explained, t: int, size: int) -> np.ndarray:
    """Frame ``t`` enlarged to about ``size`` px with the tracks (up to ``t``) and the region outlines."""
    from PIL import Image, ImageDraw
    from scipy import ndimage

    frame = ex.frames[t]
    h, w = frame.shape[:2]
    scale = frame_scale((h, w), size)
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    if scale >= 1:
        k = int(scale)
        img = frame.repeat(k, 0).repeat(k, 1).copy()
    else:
        img = np.asarray(Image.fromarray(frame).resize((out_w, out_h), Image.BOX)).copy()
    core = max(2, round(max(out_w, out_h) / 90))
    for thing in ex.regions:
        mask = thing.at(t)
        if not mask.any() or mask.all():
            continue
        big = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((out_w, out_h), Image.NEAREST)) > 127
        outer = ndimage.binary_dilation(big, iterations=core + 1) & ~ndimage.binary_erosion(big, iterations=core + 1, border_value=1)
        inner = ndimage.binary_dilation(big, iterations=core // 2 + 1) & ~ndimage.binary_erosion(big, iterations=core // 2, border_value=1)
        img[outer] = _rgb(_CASING)
        img[inner] = _rgb(thing.colour)
    canvas = Image.fromarray(img)
    draw = ImageDraw.Draw(canvas)
    sx, sy = out_w / w, out_h / h
    for thing in ex.objects:
        track = thing.track[: t + 1]
        points = [(float(x * sx), float(y * sy)) if np.isfinite(x) and np.isfinite(y) else None for x, y in track]
        segment: list[tuple[float, float]] = []
        for p in [*points, None]:
            if p is not None:
                segment.append(p)
                continue
            if len(segment) > 1:
                draw.line(segment, fill=_CASING, width=core + 4, joint="curve")
                draw.line(segment, fill=thing.colour, width=core, joint="curve")
            segment = []
        if points and points[-1] is not None:
            x, y = points[-1]
            r = core * 2 + 2
            draw.ellipse((x - r - 2, y - r - 2, x + r + 2, y + r + 2), fill=_CASING)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=thing.colour)
    return np.asarray(canvas)


def _png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _strip_frames(ex: Explained, budget: int, all_up_to: int) -> list[int]:
    n = ex.num_frames
    if n <= all_up_to:
        return list(range(n))
    even = np.linspace(0, n - 1, budget).round().astype(int).tolist()
    return sorted(set(even) | set(ex.key_frames()))


# ---------------------------------------------------------------------- rule rows
def _verdict_text(rule: RuleView) -> str:
    return "pass" if rule.passed else "FAIL"


def _failing_text(rule: RuleView) -> str:
    if rule.passed:
        return "holds"
    if rule.never:
        return f"never holds in frames {rule.window[0]}-{rule.window[1] - 1}; closest at frame {rule.closest}"
    return f"fails at frames {frame_ranges(rule.failed)}" if rule.failed else "fails"


def plot_rule(ax, rule: RuleView, num_frames: int, fontsize: float = 11) -> None:
    """One rule's row: its robustness from each frame (thick), the per-frame condition (dashed),
    the verdict at frame 0 (big dot), failing frames (red marks under the curve)."""
    import matplotlib.ticker

    x = np.arange(num_frames)
    values = [rule.signal] + ([rule.body] if rule.body is not None else [])
    lo_v = min(-0.25, *(float(np.nanmin(v)) for v in values))
    hi_v = max(0.25, *(float(np.nanmax(v)) for v in values))
    pad = 0.12 * (hi_v - lo_v)
    bottom, top = lo_v - 2.2 * pad, hi_v + pad
    ax.axhspan(0, top, color="#e8f5e9", zorder=0)
    ax.axhspan(bottom, 0, color="#fdecea", zorder=0)
    lo, hi = rule.window
    if lo > 0:
        ax.axvspan(-0.5, lo - 0.5, facecolor="#9e9e9e", alpha=0.25, hatch="//", edgecolor="#9e9e9e", zorder=0.5, lw=0)
    if hi < num_frames:
        ax.axvspan(hi - 0.5, num_frames - 0.5, facecolor="#9e9e9e", alpha=0.25, hatch="//", edgecolor="#9e9e9e", zorder=0.5, lw=0)
    ax.axhline(0, color="black", lw=1.0, zorder=1)
    if rule.body is not None:
        ax.plot(x, rule.body, ls="--", lw=1.6, color=_BODY, marker=".", ms=5, zorder=2)
    ax.plot(x, rule.signal, lw=2.6, color=_SIGNAL, marker="o", ms=4, zorder=3)
    mark = "#2e7d32" if rule.passed else _FAIL
    ax.plot([0], [rule.signal[0]], "o", ms=11, mfc=mark, mec="black", mew=1.2, zorder=4)
    rug = 1.6 * pad
    for run in _runs(rule.failed):
        ax.add_patch(_rect((run[0] - 0.45, bottom + 0.15 * rug), len(run) - 0.1, 0.7 * rug, _FAIL))
    if rule.closest is not None:
        ax.plot([rule.closest], [rule.body[rule.closest]], marker="v", ms=12, color=_CLOSEST, mec="black", zorder=4)
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.set_ylim(bottom, top)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=min(num_frames, 24)))
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
    ax.tick_params(labelsize=fontsize - 1)
    ax.grid(axis="x", color="white", lw=0.8, zorder=0.6)


def _rect(xy, width, height, colour):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, color=colour, lw=0, zorder=3.5)


def _rule_chart(rule: RuleView, num_frames: int) -> bytes:
    """A rule's row as a PNG 1200 px wide (the page scales it to its column)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 2.1), dpi=100)
    ax = fig.add_axes((0.055, 0.25, 0.935, 0.71))
    plot_rule(ax, rule, num_frames, fontsize=13)
    ax.set_xlabel("frame", fontsize=12, labelpad=1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------------- PNG
def _legend_handles():
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def cased(width):
        return [pe.Stroke(linewidth=width + 3, foreground=_CASING), pe.Normal()]

    return cased, Line2D, Patch


def render_figure(result: CheckResult, video: str | Path | None = None):
    """The PNG report as a matplotlib figure, laid out in pixels at 100 dpi (1 px per px when saved at that dpi)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ex = explain(result, video)
    num_frames = ex.num_frames
    dpi, margin, gap = 100, 24, 12
    shown = _strip_frames(ex, _PNG_STRIP, _PNG_STRIP)
    columns = min(_PNG_COLUMNS, len(shown))
    h, w = ex.frames.shape[1:3]
    scale = frame_scale((h, w), _PNG_FRAME)
    if max(h, w) * scale < _PNG_FRAME:  # a whole-number enlargement fell short: one step more
        scale += 1
    fw, fh = max(1, round(w * scale)), max(1, round(h * scale))
    width = max(1200, 2 * margin + columns * fw + (columns - 1) * gap)
    zooms = list(ex.key_frames().items())[:_PNG_ZOOMS]
    zoom_side = min(330, (width - 2 * margin - (max(1, len(zooms)) - 1) * gap) // max(1, len(zooms)))
    zscale = frame_scale((h, w), zoom_side)
    zw, zh = max(1, round(w * zscale)), max(1, round(h * zscale))

    title_h, legend_h, cap_h, head_h = 46, 38, 46, 34
    strip_rows = -(-len(shown) // columns)
    rule_h = 150
    height = (title_h + legend_h + head_h + strip_rows * (fh + cap_h + 22)
              + ((head_h + zh + 70) if zooms else 0) + head_h + 44 + len(ex.rules) * rule_h + 40 + margin)
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    y = height - margin  # cursor, pixels from the bottom

    def axes(x0, top, wpx, hpx, label=""):
        return fig.add_axes((x0 / width, (top - hpx) / height, wpx / width, hpx / height), label=label)

    def text(x0, ypx, s, **kw):
        fig.text(x0 / width, ypx / height, s, **kw)

    verdict = "PASS" if ex.passed else "FAIL"
    npass = sum(r.passed for r in ex.rules)
    text(margin, y - 28, f"{ex.source}: {verdict}  ({npass}/{len(ex.rules)} rules pass, {num_frames} frames)", fontsize=17,
         weight="bold", color="#2e7d32" if ex.passed else _FAIL)
    y -= title_h

    cased, Line2D, Patch = _legend_handles()
    handles = [Line2D([], [], color=o.colour, lw=3, marker="o", ms=8, mec=_CASING, path_effects=cased(3), label=f"{o.name} (track, dot = now)") for o in ex.objects]
    handles += [Line2D([], [], color=r.colour, lw=0, marker="s", ms=13, mfc="none", mec=r.colour, mew=2.5,
                       path_effects=cased(2.5), label=f"{r.name} (region)") for r in ex.regions]
    handles += [Patch(facecolor="white", edgecolor=_FAIL, lw=3, label="red border: a rule fails there"),
                Patch(facecolor="white", edgecolor=_CLOSEST, lw=3, ls="--", label="amber: a goal came closest")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(margin / width, y / height), ncol=min(len(handles), 4),
               fontsize=11, frameon=False, handlelength=2.2, columnspacing=1.6, borderaxespad=0)
    y -= legend_h + 18 * (len(handles) > 4)

    text(margin, y - 24, f"Frames ({'all ' + str(num_frames) if len(shown) == num_frames else f'{len(shown)} of {num_frames}'})",
         fontsize=13, weight="bold")
    y -= head_h
    for k, t in enumerate(shown):
        row, col = divmod(k, columns)
        x0 = margin + col * (fw + gap)
        top = y - row * (fh + cap_h + 22) - 20
        ax = axes(x0, top, fw, fh, label=f"frame {t}")
        ax.imshow(draw_frame(ex, t, max(fw, fh)), interpolation="none", aspect="auto")
        ax.set_xticks([]), ax.set_yticks([])
        fails, closest = ex.failing_at(t), ex.closest_at(t)
        edge = _FAIL if fails else (_CLOSEST if closest else "#555555")
        for side in ax.spines.values():
            side.set_color(edge)
            side.set_linewidth(4 if (fails or closest) else 1.5)
            side.set_linestyle("--" if closest and not fails else "-")
        ax.set_title(f"frame {t}", fontsize=12, pad=4, weight="bold" if fails else "normal")
        if fails or closest:
            names = ", ".join(r.name for r in fails) or ", ".join(f"{r.name} closest" for r in closest)
            text(x0, top - fh - 20, ("fails: " if fails else "") + names, fontsize=11, color=edge, clip_on=True,
                 weight="bold")
    y -= strip_rows * (fh + cap_h + 22)

    if zooms:
        text(margin, y - 24, "Failing frames, enlarged", fontsize=13, weight="bold")
        y -= head_h
        for k, (t, notes) in enumerate(zooms):
            x0 = margin + k * (max(zw, zoom_side) + gap)
            ax = axes(x0, y - 20, zw, zh, label=f"zoom {t}")
            ax.imshow(draw_frame(ex, t, max(zw, zh)), interpolation="none", aspect="auto")
            ax.set_xticks([]), ax.set_yticks([])
            edge = _FAIL if ex.failing_at(t) else _CLOSEST
            for side in ax.spines.values():
                side.set_color(edge), side.set_linewidth(4)
            ax.set_title(f"frame {t}", fontsize=12, pad=4, weight="bold")
            text(x0, y - 20 - zh - 22, "\n".join(notes[:2]), fontsize=10.5, color="#222222", va="top", wrap=True)
        y -= zh + 70

    text(margin, y - 24, "Each rule over time", fontsize=13, weight="bold")
    text(margin, y - 46, "thick blue: the rule's robustness evaluated from frame t (its verdict is the big dot at t = 0; above 0 = holds)",
         fontsize=11, color="#333333")
    text(margin, y - 66, "dashed grey: the condition inside the rule's outer operator;  red bars: failing frames;  hatched: outside the rule's window",
         fontsize=11, color="#333333")
    y -= head_h + 44
    label_w = 250
    for rule in ex.rules:
        top = y - 6
        colour = "#2e7d32" if rule.passed else _FAIL
        text(margin, top - 22, f"{rule.kind} {rule.name}", fontsize=13, weight="bold")
        text(margin, top - 44, f"{_verdict_text(rule)}  {rule.robustness:+.3f}", fontsize=13, weight="bold", color=colour)
        failing = _failing_text(rule)
        text(margin, top - 64, failing if len(failing) < 34 else failing.replace("; ", ";\n"), fontsize=10, color="#333333", va="top")
        ax = axes(margin + label_w, top, width - 2 * margin - label_w, rule_h - 40, label=f"rule {rule.name}")
        plot_rule(ax, rule, num_frames)
        y -= rule_h
    fig.axes[-1].set_xlabel("frame", fontsize=11)
    return fig


# ---------------------------------------------------------------------- HTML
_CSS = """
*{box-sizing:border-box}
html{scroll-padding-top:9rem}
body{font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#eceff1}
header.key{position:sticky;top:0;z-index:10;background:#fff;border-bottom:2px solid #37474f;padding:.5rem 1rem;box-shadow:0 2px 6px #0002}
.key .title{font-size:1.15rem;margin:0 0 .3rem}
.key ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.2rem;font-size:.9rem}
.key li{display:flex;align-items:center;gap:.35rem;white-space:nowrap}
.key nav{font-size:.85rem;margin-top:.3rem}
.key nav a{margin-right:.8rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:4px;color:#fff;font-weight:700}
.badge.pass{background:#2e7d32}.badge.fail{background:#d50000}
main{max-width:1360px;margin:0 auto;padding:.5rem 1rem 3rem}
section{background:#fff;border-radius:6px;padding:.6rem 1rem 1rem;margin:1rem 0;box-shadow:0 1px 3px #0002}
h2{font-size:1.2rem;margin:.3rem 0 .6rem}
img{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;width:100%}
.table{overflow-x:auto}
th,td{padding:.3rem .6rem;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}
td{overflow-wrap:break-word}
td.pass{color:#2e7d32;font-weight:700}td.fail{color:#d50000;font-weight:700}
code{font-size:.9em;overflow-wrap:anywhere}
.strip{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
.zooms{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,330px),1fr));gap:1rem}
figure{margin:0;min-width:0}
figure img{width:100%;image-rendering:pixelated;border:3px solid #546e7a;background:#546e7a}
figure.fail img{border:6px solid #d50000}
figure.closest img{border:6px dashed #ff8f00}
figcaption{font-size:.9rem;padding:.15rem 0}
figcaption b{font-size:1rem}
.why{display:block;color:#d50000;font-weight:700;overflow-wrap:anywhere}
figure.closest .why{color:#b35c00}
.zooms figcaption{font-size:1rem}
.rule{border-top:1px solid #ddd;padding:.6rem 0}
.rule h3{margin:0;font-size:1.05rem;overflow-wrap:anywhere}
.rule p{margin:.1rem 0 .3rem}
.rule img{width:100%}
"""


def _swatch_track(colour: str) -> str:
    return (f'<svg width="34" height="16" aria-hidden="true"><line x1="2" y1="8" x2="24" y2="8" stroke="{_CASING}" stroke-width="7" stroke-linecap="round"/>'
            f'<line x1="2" y1="8" x2="24" y2="8" stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
            f'<circle cx="26" cy="8" r="6" fill="{colour}" stroke="{_CASING}" stroke-width="2.5"/></svg>')


def _swatch_region(colour: str) -> str:
    return (f'<svg width="20" height="20" aria-hidden="true"><rect x="3" y="3" width="14" height="14" fill="none" stroke="{_CASING}" stroke-width="6"/>'
            f'<rect x="3" y="3" width="14" height="14" fill="none" stroke="{colour}" stroke-width="2.5"/></svg>')


def _swatch_line(colour: str, dash: str = "", width: float = 3) -> str:
    return (f'<svg width="34" height="12" aria-hidden="true"><line x1="1" y1="6" x2="33" y2="6" stroke="{colour}" '
            f'stroke-width="{width}" {dash}/></svg>')


def _swatch_box(colour: str, dashed: bool = False) -> str:
    return (f'<svg width="22" height="18" aria-hidden="true"><rect x="2" y="2" width="18" height="14" fill="#fff" stroke="{colour}" '
            f'stroke-width="3.5" {_DASHED if dashed else ""}/></svg>')


_DASHED = 'stroke-dasharray="4 2"'


def _b64(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _figure(ex: Explained, t: int, size: int, notes: list[str] | None = None) -> str:
    fails, closest = ex.failing_at(t), ex.closest_at(t)
    cls = "fail" if fails else ("closest" if closest else "ok")
    why = ""
    if notes:
        why = "".join(f'<span class="why">{html.escape(n)}</span>' for n in notes)
    elif fails:
        why = f'<span class="why">fails: {html.escape(", ".join(r.name for r in fails))}</span>'
    elif closest:
        why = f'<span class="why">closest: {html.escape(", ".join(r.name for r in closest))}</span>'
    alt = f"frame {t}" + (f", failing: {', '.join(r.name for r in fails)}" if fails else "")
    return (f'<figure class="frame {cls}" data-frame="{t}" data-fails="{html.escape(" ".join(r.name for r in fails))}" '
            f'data-closest="{html.escape(" ".join(r.name for r in closest))}">'
            f'<img alt="{html.escape(alt)}" src="{_b64(_png_bytes(draw_frame(ex, t, size)))}">'
            f'<figcaption><b>frame {t}</b>{why}</figcaption></figure>')


def render_html(result: CheckResult, video: str | Path | None = None) -> str:
    """The HTML report: one self-contained page (images inline)."""
    ex = explain(result, video)
    num_frames = ex.num_frames
    verdict = "PASS" if ex.passed else "FAIL"
    npass = sum(r.passed for r in ex.rules)
    name = html.escape(ex.source)

    legend = [f"<li>{_swatch_track(o.colour)}<b>{html.escape(o.name)}</b>&nbsp;track (dot = where it is)</li>" for o in ex.objects]
    legend += [f"<li>{_swatch_region(r.colour)}<b>{html.escape(r.name)}</b>&nbsp;region</li>" for r in ex.regions]
    legend += [f"<li>{_swatch_box(_FAIL)}a rule fails at this frame</li>",
               f"<li>{_swatch_box(_CLOSEST, True)}a goal never met came closest here</li>",
               f"<li>{_swatch_line(_SIGNAL, width=4)}rule's robustness from frame t (verdict at t=0)</li>",
               f"<li>{_swatch_line(_BODY, dash=_DASHED, width=2.5)}condition inside the rule's outer operator</li>",
               f"<li>{_swatch_line(_FAIL, width=8)}failing frames</li>"]
    failing_link = '<a href="#failing">failing frames</a>' if ex.key_frames() else ""
    header = (f'<header class="key" id="legend"><p class="title"><span class="badge {verdict.lower()}">{verdict}</span> '
              f"<b>{name}</b>: {npass}/{len(ex.rules)} rules pass, {num_frames} frames</p>"
              f'<ul>{"".join(legend)}</ul><nav><a href="#verdicts">verdicts</a><a href="#frames">frames</a>'
              f'{failing_link}<a href="#rules">rules over time</a></nav></header>')

    rows = "".join(
        f'<tr><td>{html.escape(r.kind)}</td><td><a href="#{r.anchor}">{html.escape(r.name)}</a></td>'
        f'<td class="{"pass" if r.passed else "fail"}">{_verdict_text(r)}</td><td>{r.robustness:+.3f}</td>'
        f"<td>{html.escape(frame_ranges(r.failed))}</td><td><code>{html.escape(r.text)}</code></td></tr>"
        for r in ex.rules
    )
    table = (f'<section id="verdicts"><h2>Verdicts</h2><div class="table"><table><thead><tr><th>kind</th><th>rule</th><th>verdict</th>'
             f"<th>robustness</th><th>failing frames</th><th>formula</th></tr></thead><tbody>{rows}</tbody></table></div></section>")

    shown = _strip_frames(ex, _HTML_SUBSAMPLE, _HTML_ALL_FRAMES)
    count = f"all {num_frames}" if len(shown) == num_frames else f"{len(shown)} of {num_frames}"
    strip = (f'<section id="frames"><h2>Frames ({count})</h2><div class="strip">'
             + "".join(_figure(ex, t, _HTML_FRAME) for t in shown) + "</div></section>")

    keys = ex.key_frames()
    zooms = ""
    if keys:
        zooms = (f'<section id="failing"><h2>Failing frames, enlarged</h2><div class="zooms">'
                 + "".join(_figure(ex, t, _HTML_ZOOM, notes) for t, notes in keys.items()) + "</div></section>")

    rule_rows = []
    for r in ex.rules:
        outer = f"dashed: the condition inside <code>{r.outer}</code>" if r.body is not None else "no outer temporal operator: the curve is the formula itself"
        lo, hi = r.window
        span = f"frame {lo}" if hi - lo == 1 else f"frames {lo}-{hi - 1}"
        window = "" if r.window == (0, num_frames) else f"; it reads {span} (hatched: the others)"
        rule_rows.append(
            f'<div class="rule" id="{r.anchor}" data-rule="{html.escape(r.name)}"><h3>{html.escape(r.kind)} <b>{html.escape(r.name)}</b>: '
            f'<span class="badge {"pass" if r.passed else "fail"}">{_verdict_text(r)}</span> robustness {r.robustness:+.3f}; '
            f"{html.escape(_failing_text(r))}</h3><p><code>{html.escape(r.text)}</code> &middot; {outer}{window}</p>"
            f'<img alt="rule {html.escape(r.name)} over time" src="{_b64(_rule_chart(r, num_frames))}"></div>')
    rules = '<section id="rules"><h2>Each rule over time</h2>' + "".join(rule_rows) + "</section>"

    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>rulec explain: {name} ({verdict})</title><style>{_CSS}</style></head>"
            f"<body>{header}<main>{table}{strip}{zooms}{rules}</main></body></html>")


def write_report(result: CheckResult, out: str | Path, video: str | Path | None = None) -> Path:
    """Write the report as ``.png`` or ``.html`` (chosen by the suffix); ``video``, the judged
    file, is named in the title when given."""
    out = Path(out)
    if out.suffix.lower() == ".png":
        import matplotlib.pyplot as plt

        fig = render_figure(result, video)
        fig.savefig(out, format="png", dpi=100)
        plt.close(fig)
        return out
    out.write_text(render_html(result, video), encoding="utf-8")
    return out
