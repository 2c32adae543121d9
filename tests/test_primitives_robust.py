"""Verdicts that hold on real videos (#20): colours through a lossy codec and anti-aliasing,
presence relative to frame 0, regions frozen at start under the objects standing on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rulec import compile_rules
from rulec.check import check_frames, frames_to_tensor
from rulec.primitives.detectors import ColourSpace, Palette, color, fill_holes, frame_palette
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Smooth
from rulec.runtime.tasks.world import PALETTE, hex_to_rgb
from rulec.runtime.video_io import read_video, write_video

NAMES = ("white", "black", "red", "green", "blue", "yellow", "purple", "cyan", "grey")


def _disc(h: int, w: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


@st.composite
def flat_scenes(draw):
    """A flat-colour scene: a background, 1-2 rectangles (regions) and 1-3 discs (objects) over 3
    frames; each disc lies well inside one rectangle or well clear of all of them (2+ px) in
    every frame (4+ px inside, past the codec's fringe of the rectangle's own edge), and clear of the
    other discs, so its verdicts are not borderline."""
    size = draw(st.sampled_from([64, 80, 96]))
    colours = draw(st.permutations(NAMES))
    n_rect, n_disc = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    background, rect_colours, disc_colours = colours[0], colours[1 : 1 + n_rect], colours[1 + n_rect : 1 + n_rect + n_disc]
    rects = []
    for _ in range(n_rect):
        x0, y0 = draw(st.integers(0, size - 24)), draw(st.integers(0, size - 24))
        rects.append((x0, y0, x0 + draw(st.integers(20, size - x0)), y0 + draw(st.integers(20, size - y0))))
    for a in range(n_rect):  # disjoint rectangles, 3+ px apart
        for b in range(a):
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = rects[a], rects[b]
            assume(ax1 + 3 <= bx0 or bx1 + 3 <= ax0 or ay1 + 3 <= by0 or by1 + 3 <= ay0)
    discs = []
    for _ in range(n_disc):
        r = draw(st.integers(3, 8))
        cy, cx = draw(st.integers(r + 3, size - r - 5)), draw(st.integers(r + 3, size - r - 5))
        dy, dx = draw(st.integers(-1, 1)), draw(st.integers(-1, 1))
        discs.append((r, cy, cx, dy, dx))
    frames = np.empty((3, size, size, 3), np.uint8)
    for t in range(3):
        frame = np.empty((size, size, 3), np.uint8)
        frame[:] = hex_to_rgb(PALETTE[background])
        for (x0, y0, x1, y1), c in zip(rects, rect_colours):
            frame[y0:y1, x0:x1] = hex_to_rgb(PALETTE[c])
        for (r, cy, cx, dy, dx), c in zip(discs, disc_colours):
            frame[_disc(size, size, cy + t * dy, cx + t * dx, r)] = hex_to_rgb(PALETTE[c])
        frames[t] = frame
    for i, (r, cy, cx, dy, dx) in enumerate(discs):
        for t in range(3):
            y, x = cy + t * dy, cx + t * dx
            for x0, y0, x1, y1 in rects:
                inside = x0 + r + 4 <= x < x1 - r - 4 and y0 + r + 4 <= y < y1 - r - 4
                clear = x + r + 2 < x0 or x - r - 2 >= x1 or y + r + 2 < y0 or y - r - 2 >= y1
                assume(inside or clear)
            for r2, cy2, cx2, dy2, dx2 in discs[:i]:
                assume(np.hypot(y - cy2 - t * dy2, x - cx2 - t * dx2) >= r + r2 + 4)
    lines = [f'object o{i} = color("{PALETTE[c]}")' for i, c in enumerate(disc_colours)]
    lines += [f'region r{j} = color("{PALETTE[c]}") at start' for j, c in enumerate(rect_colours)]
    for i in range(n_disc):
        lines.append(f"process present{i} : always present(o{i})")
        lines.append(f"process gone{i} : eventually not present(o{i})")
        for j in range(n_rect):
            lines.append(f"process in{i}_{j} : always inside(o{i}, r{j})")
            lines.append(f"process out{i}_{j} : always not inside(o{i}, r{j})")
    for j in range(n_rect):
        lines.append(f"process region{j} : always present(r{j})")
    lines.append("goal any : always present(o0) or not present(o0)")
    return frames, "\n".join(lines) + "\n"


def _verdicts(rules: str, frames: np.ndarray) -> dict[str, bool]:
    report = check_frames(compile_rules(rules, num_frames=frames.shape[0]), frames).report
    return {r.name: bool(r.passed[0]) for r in report.rules if r.name != "any"}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(flat_scenes())
def test_verdicts_survive_a_lossy_h264_420_encode(tmp_path_factory, scene):
    """Every presence and inside verdict is the same on the lossless frames and after an ordinary
    libx264 yuv420p mp4 (default CRF) written and read back."""
    frames, rules = scene
    path = tmp_path_factory.mktemp("h264") / "scene.mp4"
    write_video(path, frames, codec="h264")
    lossy = read_video(path)
    assert not np.array_equal(lossy, frames)  # the codec did change pixels
    lossless = _verdicts(rules, frames)
    assert all(lossless[k] for k in lossless if k.startswith(("present", "region")))
    assert _verdicts(rules, lossy) == lossless


def _outlined_scene(size: int = 64) -> np.ndarray:
    """White background, a grey disc with a black outline, anti-aliased edges (4x supersampled)."""
    big = size * 4
    yy, xx = np.mgrid[:big, :big] / 4.0
    d = np.hypot(yy - size / 2, xx - size / 2)
    img = np.full((big, big, 3), 255.0)
    img[d <= 14] = 0.0
    img[d <= 11] = hex_to_rgb(PALETTE["red"])
    return img.reshape(size, 4, size, 4, 3).mean((1, 3)).round().astype(np.uint8)


def test_anti_aliased_fringe_belongs_to_neither_colour():
    """Pixels halfway between the black outline and the white background (or the red fill) are
    fringe: no detector picks them, while the flat parts are detected whole."""
    frame = _outlined_scene()
    video = frames_to_tensor(frame[None])
    named = ("#000000", "#ffffff", PALETTE["red"])
    space = ColourSpace(video, palette=Palette(video, named))
    masks = {c: color(Exact(), space, c, tol=60)[0, 0].numpy() > 0.5 for c in named}
    rgb = frame.reshape(-1, 3).astype(float)
    pure = {c: np.all(np.abs(frame.astype(int) - np.array(hex_to_rgb(c))) <= 2, -1) for c in named}
    for c in named:
        assert masks[c][pure[c]].all(), c  # flat pixels kept
    grey_mid = np.all(np.abs(rgb - 128) <= 30, -1).reshape(frame.shape[:2])  # black/white halfway
    assert grey_mid.any()
    assert not any(masks[c][grey_mid].any() for c in named)
    assert not (masks["#000000"] & masks["#ffffff"]).any()


def test_frame_palette_keeps_flat_colours_and_drops_blends():
    frame = _outlined_scene()
    palette = (frame_palette(frames_to_tensor(frame[None])[0, 0]) * 255).round().int().tolist()
    assert [255, 255, 255] in palette and [229, 57, 53] in palette
    assert len(palette) <= 3  # the fringe shades are edges or blends, not colours


def test_a_plain_detector_and_its_table_agree_with_rules_named_colours():
    """Named colours compete even when absent from frame 0: a pixel nearer to another named colour is not this one."""
    video = torch.tensor(hex_to_rgb("#d84040"), dtype=torch.float32).div(255).view(1, 1, 3, 1, 1).expand(1, 1, 3, 4, 4).contiguous()
    alone = color(Exact(), ColourSpace(video, palette=Palette.none()), "#ff0000", tol=60)
    competing = color(Exact(), ColourSpace(video, palette=Palette(video * 0 + 1, ("#ff0000", "#d84040"))), "#ff0000", tol=60)
    assert alone.all() and not competing.any()


# ---------------------------------------------------------------- present relative to frame 0
def _blob_video(areas: list[int], size: int = 64) -> np.ndarray:
    frames = np.full((len(areas), size, size, 3), 255, np.uint8)
    for t, a in enumerate(areas):
        frames[t].reshape(-1, 3)[:a] = hex_to_rgb(PALETTE["red"])
    return frames


@pytest.mark.parametrize("areas, passes", [
    ([29, 29, 20, 16], True),   # frayed or half hidden: still present
    ([29, 29, 12, 29], False),  # below half its frame-0 area
    ([29, 0, 29, 29], False),   # vanished for a frame
])
def test_present_is_relative_to_the_first_frame(areas, passes):
    rules = 'object o = color("#e53935")\ngoal p : always present(o)\n'
    assert _verdicts(rules, _blob_video(areas)) == {"p": passes}


def test_present_with_min_area_is_absolute_and_an_object_absent_at_start_falls_back():
    absolute = 'object o = color("#e53935")\ngoal p : always present(o, min_area=0.005)\n'
    assert _verdicts(absolute, _blob_video([20, 20])) == {"p": False}  # 20 px < 0.5 % of 64x64 (20.48 px)
    assert _verdicts(absolute, _blob_video([21, 21])) == {"p": True}
    late = 'object o = color("#e53935")\ngoal p : eventually present(o)\nprocess q : at end present(o)\n'
    # absent in frame 0: the absolute 0.5 % of the frame (21 px at 64x64)
    assert _verdicts(late, _blob_video([0, 0, 25])) == {"p": True, "q": True}
    assert _verdicts(late, _blob_video([0, 0, 15])) == {"p": False, "q": False}


def test_present_gradients_are_finite_on_empty_masks():
    o = torch.zeros(1, 3, 8, 8, requires_grad=True)
    for first in (torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8)):
        m = KERNELS["present"](Smooth(), o, 0.5, 0.0, first)
        m.sum().backward()
        assert torch.isfinite(m).all() and torch.isfinite(o.grad).all()


# ---------------------------------------------------------------- regions frozen at start
def test_region_at_start_includes_the_object_standing_on_it():
    frames = np.full((2, 48, 48, 3), 255, np.uint8)
    frames[:, 10:30, 10:30] = hex_to_rgb(PALETTE["green"])
    frames[0][_disc(48, 48, 20, 20, 4)] = hex_to_rgb(PALETTE["red"])  # the agent starts on home ...
    frames[1][_disc(48, 48, 40, 40, 4)] = hex_to_rgb(PALETTE["red"])  # ... and leaves it
    rules = ('object agent = color("#e53935")\nregion home = color("#43a047") at start\n'
             "goal whole : at end area(home) > 0.17\nprocess start : at start inside(agent, home)\n")
    assert _verdicts(rules, frames) == {"whole": True, "start": True}  # 20x20 = 400 px = 0.174 of the frame


def test_holes_not_covered_by_objects_stay_open():
    """A maze's walls enclose its floor, but the agent covers little of it: not filled; an agent
    in a corridor between walls is not enclosed by them: not taken; a block it stands on is."""
    walls = torch.ones(1, 1, 20, 20)
    walls[..., 2:18, 2:18] = 0
    agent = torch.zeros(1, 1, 20, 20)
    agent[..., 8:11, 8:11] = 1
    assert torch.equal(fill_holes(Exact(), walls, agent), walls)
    corridor = torch.zeros(1, 1, 20, 20)
    corridor[..., 5:8, :] = 1
    corridor[..., 11:14, :] = 1  # walls 3 px above and below the agent's rows 8-10
    assert torch.equal(fill_holes(Exact(), corridor, agent), corridor)
    block = torch.zeros(1, 1, 20, 20)
    block[..., 3:17, 3:17] = 1
    block[..., 8:11, 8:11] = 0  # the agent covers it
    filled = fill_holes(Exact(), block, agent)
    assert filled[..., 8:11, 8:11].all() and filled.sum() == 14 * 14
    smooth = fill_holes(Smooth(), block * 0.9, agent)
    assert torch.equal(smooth >= 0.9, filled > 0)


# ---------------------------------------------------------------- unchanged: the share of changed pixels
def _wall_video(repaint: int, noise: int = 0, size: int = 64) -> np.ndarray:
    frames = np.full((3, size, size, 3), 255, np.uint8)
    frames[:, 30:32, :] = 0  # a long wall, 128 px
    if repaint:
        frames[2, 30:32, :repaint] = hex_to_rgb(PALETTE["red"])  # a local repaint at the end
    if noise:
        rng = np.random.default_rng(0)
        frames = np.clip(frames.astype(int) + rng.integers(-noise, noise + 1, frames.shape), 0, 255).astype(np.uint8)
    return frames


@pytest.mark.parametrize("repaint, noise, passes", [(0, 0, True), (0, 6, True), (4, 0, False), (0, 0, True)])
def test_unchanged_counts_changed_pixels(repaint, noise, passes):
    rules = 'region walls = color("#000000") at start\ngoal g : always unchanged(walls)\n'
    assert _verdicts(rules, _wall_video(repaint, noise)) == {"g": passes}  # 8 of 128 px = 6 % > 1 %


def test_unchanged_tol_is_the_share_allowed():
    rules = 'region walls = color("#000000") at start\ngoal g : always unchanged(walls, tol=0.05)\n'
    assert _verdicts(rules, _wall_video(2)) == {"g": True}  # 4 of 128 px: 3 %
    assert _verdicts(rules, _wall_video(4)) == {"g": False}  # 8 of 128 px: 6 %


def test_unchanged_smooth_is_finite_and_pulls_changed_pixels_back():
    video = torch.from_numpy(_wall_video(4)).float().div(255).permute(0, 3, 1, 2).unsqueeze(0).requires_grad_(True)
    r = torch.zeros(1, 1, 64, 64)
    r[..., 30:32, :] = 1
    m = KERNELS["unchanged"](Smooth(), video, video[:, :1].detach(), r)
    (-m.sum()).backward()
    assert torch.isfinite(video.grad).all() and video.grad[0, 2, :, 30:32, :4].abs().sum() > 0
    assert m[0, 0] > 0.9 and m[0, 2] < 0
    empty = KERNELS["unchanged"](Smooth(), video, video[:, :1].detach(), torch.zeros(1, 1, 64, 64))
    assert torch.equal(empty, torch.ones_like(empty))


# ---------------------------------------------------------------- W003: declarations that match nothing in frame 0
def test_check_warns_about_a_declaration_that_matches_nothing_in_the_first_frame(tmp_path):
    from rulec.check import check_file

    frames = np.full((2, 64, 64, 3), 255, np.uint8)
    frames[:, 10:16, 10:16] = hex_to_rgb(PALETTE["red"])
    rules = tmp_path / "rules.txt"
    rules.write_text('object agent = color("#e53935")\nobject ghost = color("#1e88e5")\ngoal g : always present(agent)\n'
                     "process p : always not present(ghost)\n")
    write_video(tmp_path / "video", frames)
    for keep in (True, False):
        result = check_file(rules, tmp_path / "video", keep_frames=keep)
        assert [w.code for w in result.warnings] == ["W003"]
        data = result.to_json()
        assert data["passed"] and data["warnings"][0]["message"] == "object 'ghost' matches nothing in the first frame"
        assert "#ffffff" in data["warnings"][0]["help"] and "#e53935" in data["warnings"][0]["help"]


def test_occlusion_window_allows_a_short_disappearance():
    rules = 'object card = color("#e53935")\ngoal seen : always eventually[0:5] present(card)\n'
    hidden = lambda gap: _blob_video([29] * 3 + [0] * gap + [29] * 3)
    assert _verdicts(rules, hidden(4)) == {"seen": True}
    assert _verdicts(rules, hidden(5)) == {"seen": False}
