"""`rulec explain`'s report, looked at: the HTML page in headless Chromium (it fits the
window, the legend stays in view, frames are large), failing frames marked, each rule's
own robustness plotted, the PNG laid out large, tracks and outlines that contrast.

The browser tests install Chromium (``apt-get install -y chromium``) where it is missing
and the machine allows it, and are skipped with the reason otherwise. With
``RULEC_DOCS_IMG=docs/img`` they also save their screenshots there for the docs.
"""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from rulec.check import check_file
from rulec.primitives.colours import hex_to_rgb
from rulec.explain import _CASING, _PALETTE, draw_frame, explain, render_figure, render_html, write_report

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"
RULES = TUTORIAL / "deliver.rules"


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is under it (as the docs' command gives it)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@pytest.fixture(scope="module")
def broken():
    return check_file(_shown(RULES), TUTORIAL / "broken.mp4")


@pytest.fixture(scope="module")
def page(broken, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(broken, out)  # as `rulec explain` writes it (the docs show this page)
    return out


@pytest.fixture(scope="module")
def chromium() -> str:
    from tests.support.browser import NoBrowser, find_chromium

    try:
        return find_chromium(install=True)
    except NoBrowser as exc:
        pytest.skip(f"headless Chromium unavailable: {exc}")


class _Figures(HTMLParser):
    """The report's <figure> elements: section, classes and data attributes."""

    def __init__(self):
        super().__init__()
        self.section, self.figures, self.rules = None, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        elif tag == "figure":
            self.figures.append({"section": self.section, "classes": attrs.get("class", "").split(),
                                 "frame": int(attrs["data-frame"]), "fails": attrs.get("data-fails", "").split(),
                                 "closest": attrs.get("data-closest", "").split()})
        elif tag == "div" and "rule" in attrs.get("class", "").split():
            self.rules.append(attrs["data-rule"])


def _parse(text: str) -> _Figures:
    parser = _Figures()
    parser.feed(text)
    return parser


# ---------------------------------------------------------------------- the page in a browser
@pytest.mark.parametrize("width", [1400, 1280, 1000])
def test_page_fits_the_window_and_the_legend_stays_in_view(chromium, page, width, tmp_path):
    from tests.support.browser import measure, screenshot

    m = measure(chromium, page, width, 900)
    top, bottom = m["top"], m["bottom"]
    assert top["innerWidth"] == width
    for state in (top, bottom):
        assert state["scrollWidth"] <= state["innerWidth"], f"sideways scrolling at {width} px: {state['wider']}"
        assert state["wider"] == []
        legend = state["legend"]
        assert legend is not None
        assert legend["top"] >= 0 and legend["bottom"] <= state["innerHeight"] and legend["right"] <= state["innerWidth"] + 0.5
        assert legend["height"] < 0.25 * state["innerHeight"]  # pinned, but leaves the page room
    assert bottom["scrollY"] > 1000  # scrolled far down: the legend is pinned, not just at the top
    assert len(top["frames"]) == 16 and min(top["frames"]) >= 150  # large frames, at both widths
    assert len(top["zooms"]) >= 2 and min(top["zooms"]) >= 300  # the failing frames, enlarged

    shot = screenshot(chromium, page, tmp_path / f"report-{width}.png", width, int(top["scrollHeight"]))
    from PIL import Image

    assert Image.open(shot).size == (width, int(top["scrollHeight"]))
    docs = os.environ.get("RULEC_DOCS_IMG")
    if docs and width == 1400:
        shutil.copy(shot, Path(docs) / "explain-report-1400.png")
        top_only = screenshot(chromium, page, tmp_path / "top.png", width, 900)
        shutil.copy(top_only, Path(docs) / "explain-report-1400-top.png")


# ---------------------------------------------------------------------- what the page says
def test_failing_frames_are_marked_on_the_filmstrip_and_enlarged(page):
    parsed = _parse(page.read_text())
    strip = {f["frame"]: f for f in parsed.figures if f["section"] == "frames"}
    assert sorted(strip) == list(range(16))
    for t, figure in strip.items():
        assert ("fail" in figure["classes"]) == (5 <= t <= 9), t  # safe and scene fail at 5-9
        assert ("safe" in figure["fails"]) == (5 <= t <= 9)
        # scene: unchanged(danger) counts changed pixels, so it fails in every frame the disc covers part of the zone
        assert ("scene" in figure["fails"]) == (5 <= t <= 9)
        assert "route" not in figure["fails"]  # a goal never met is not "failing" at all 16 frames...
    assert strip[7]["closest"] == ["route"]  # ...but marked where it came closest
    zoomed = {f["frame"] for f in parsed.figures if f["section"] == "failing"}
    assert {5, 7} <= zoomed  # where safe and scene start failing (both at 5), and their worst frame (7)
    assert zoomed <= set(range(5, 10))
    assert parsed.rules == ["route", "stop", "safe", "one", "steady", "scene"]  # one row per rule


def test_rule_rows_plot_the_rules_own_robustness_not_the_body(broken):
    ex = explain(broken)
    by_name = {r.name: r for r in ex.rules}
    for rule in ex.rules:
        assert rule.signal[0] == pytest.approx(rule.robustness, abs=1e-6)  # the verdict is the value at frame 0
    safe = by_name["safe"]  # always: from frame t on, the worst frame so far to come
    assert safe.outer == "always"
    assert np.allclose(safe.signal, np.minimum.accumulate(safe.body[::-1])[::-1], atol=1e-6)
    assert not np.allclose(safe.signal, safe.body)
    route = by_name["route"]  # A then B: an eventually, the best frame to come
    assert route.outer == "eventually" and route.never and route.closest == int(np.argmax(route.body))
    assert np.allclose(route.signal, np.maximum.accumulate(route.body[::-1])[::-1], atol=1e-6)
    stop = by_name["stop"]  # at end: the last frame's value at every frame
    assert stop.window == (15, 16) and np.allclose(stop.signal, stop.body[-1])


def test_report_names_every_rule_with_its_verdict_and_formula(broken):
    text = render_html(broken)
    for rule in explain(broken).rules:
        assert f'data-rule="{rule.name}"' in text
        assert rule.text.replace(">", "&gt;").replace("<", "&lt;") in text
    assert 'id="legend"' in text and "position:sticky" in text
    assert 'name="viewport"' in text
    assert "deliver.rules on broken.mp4" in render_html(broken, video=TUTORIAL / "broken.mp4")


# ---------------------------------------------------------------------- the PNG
def test_png_report_has_large_numbered_frames_and_a_row_per_rule(broken, tmp_path):
    fig = render_figure(broken)
    fig.canvas.draw()
    frames = [ax for ax in fig.axes if ax.get_label().startswith("frame ")]
    assert [int(ax.get_label().split()[1]) for ax in frames] == list(range(16))
    for ax in frames:
        box = ax.get_window_extent()
        assert box.width >= 150 and box.height >= 150
        assert ax.get_title() == ax.get_label()  # numbered
    assert len([ax for ax in fig.axes if ax.get_label().startswith("zoom ")]) >= 2
    rows = [ax for ax in fig.axes if ax.get_label().startswith("rule ")]
    assert [ax.get_label() for ax in rows] == [f"rule {n}" for n in ("route", "stop", "safe", "one", "steady", "scene")]
    sizes = [t.get_fontsize() for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and hasattr(o, "get_text") and o.get_text())]
    assert min(sizes) >= 9.5  # 13+ px at 100 dpi
    out = write_report(broken, tmp_path / "r.png")
    from PIL import Image

    w, h = Image.open(out).size
    assert (w, h) == tuple(round(v) for v in fig.get_size_inches() * 100)  # saved 1:1, not shrunk
    assert w <= 1600


# ---------------------------------------------------------------------- contrast
def _luminance(rgb) -> float:
    c = np.asarray(rgb, float) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def _hex(colour: str):
    return hex_to_rgb(colour)


def test_tracks_and_outlines_are_bright_cores_on_a_dark_casing(broken):
    casing = _luminance(_hex(_CASING))
    for colour in _PALETTE:
        assert (_luminance(_hex(colour)) + 0.05) / (casing + 0.05) >= 4.5  # core vs casing (WCAG AA)
    ex = explain(broken)
    colours = [t.colour for t in ex.things]
    assert len(set(colours)) == len(colours)  # each object and region its own colour
    image = draw_frame(ex, 15, 256)
    assert image.shape[:2] == (256, 256)
    for thing in ex.things:
        core = np.all(image == _hex(thing.colour), axis=-1)
        assert core.sum() > 50, thing.name  # drawn
        near = np.zeros_like(core)
        ys, xs = np.nonzero(core)
        for dy in (-3, 3):
            for dx in (-3, 3):
                near[np.clip(ys + dy, 0, 255), np.clip(xs + dx, 0, 255)] = True
        dark = np.all(image == _hex(_CASING), axis=-1)
        assert (near & dark).sum() > 0.3 * core.sum(), thing.name  # the core runs along dark casing
    region = next(t for t in ex.regions if t.name == "drop")
    own = ex.frames[0][region.at(0)].mean(0)
    assert np.linalg.norm(np.array(_hex(region.colour)) - own) > 150  # not the pad's own colour


def test_a_passing_video_marks_nothing(tmp_path):
    result = check_file(RULES, TUTORIAL / "good.mp4")
    parsed = _parse(render_html(result))
    assert parsed.figures and all(f["classes"] == ["frame", "ok"] for f in parsed.figures)
    assert {f["section"] for f in parsed.figures} == {"frames"}  # no enlarged failing frames
    fig = render_figure(result)
    assert not [ax for ax in fig.axes if ax.get_label().startswith("zoom ")]


def test_long_large_videos_are_subsampled_keep_their_failing_frames_and_stay_legible():
    from rulec import compile_rules
    from rulec.check import check_frames
    from rulec.runtime.video_io import read_video

    frames = np.repeat(read_video(TUTORIAL / "broken.mp4").repeat(12, 1).repeat(12, 2), 5, axis=0)  # 80 x 384 x 384
    result = check_frames(compile_rules(RULES, num_frames=len(frames)), frames)
    ex = explain(result)
    keys = set(ex.key_frames())
    parsed = _parse(render_html(result))
    strip = {f["frame"] for f in parsed.figures if f["section"] == "frames"}
    assert 48 <= len(strip) < 80 and keys <= strip  # an even subsample plus every enlarged frame
    assert {f["frame"] for f in parsed.figures if f["section"] == "failing"} == keys
    fig = render_figure(result)
    fig.canvas.draw()
    shown = [ax for ax in fig.axes if ax.get_label().startswith("frame ")]
    assert 16 <= len(shown) <= 16 + len(keys)
    assert all(150 <= round(ax.get_window_extent().width) <= 200 for ax in shown)  # shrunk, not 384 px each
    assert fig.get_size_inches()[0] * 100 <= 1600


def test_a_report_needs_the_frames():
    result = check_file(RULES, TUTORIAL / "broken.mp4", keep_frames=False)
    with pytest.raises(ValueError, match="keep_frames=True"):
        explain(result)
