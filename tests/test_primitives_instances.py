"""Bounding-box measures (left_edge/right_edge/top_edge/bottom_edge), instance selectors (largest/smallest/nth) and
verdicts that do not depend on the video's resolution (#20)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulec import compile_rules
from rulec.check import check_frames
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Smooth
from rulec.runtime.tasks.world import PALETTE, hex_to_rgb

SIDES = ("left_edge", "right_edge", "top_edge", "bottom_edge")


def _mask(h=20, w=30, box=(5, 12, 3, 9)):
    m = torch.zeros(1, 1, h, w)
    x0, x1, y0, y1 = box
    m[..., y0:y1, x0:x1] = 1
    return m


def test_exact_extents_are_pixel_edges():
    m = _mask()
    got = [float(KERNELS[s](Exact(), m)) for s in SIDES]
    assert got == pytest.approx([5 / 30, 12 / 30, 3 / 20, 9 / 20])


@given(st.integers(0, 20), st.integers(1, 9), st.integers(0, 12), st.integers(1, 7))
@settings(max_examples=40, deadline=None)
def test_smooth_extents_lie_within_a_pixel_inward_of_the_edge(x0, wx, y0, wy):
    m = _mask(box=(x0, x0 + wx, y0, y0 + wy))
    cx, cy = float(KERNELS["x"](Exact(), m)), float(KERNELS["y"](Exact(), m))
    for side, centre in zip(SIDES, (cx, cx, cy, cy)):
        exact, smooth = float(KERNELS[side](Exact(), m)), float(KERNELS[side](Smooth(), m))
        n = 30 if side in ("left_edge", "right_edge") else 20
        assert abs(smooth - exact) <= 1 / n + 1e-6, side  # within a pixel of the edge ...
        assert (smooth - exact) * (centre - exact) >= -1e-9, side  # ... inward


def test_extents_of_an_empty_mask_are_finite_with_finite_gradients():
    o = torch.zeros(1, 2, 8, 8, requires_grad=True)
    for side in SIDES:
        for sem in (Exact(), Smooth()):
            v = KERNELS[side](sem, o)
            assert torch.equal(v, torch.full_like(v, 0.5))
        KERNELS[side](Smooth(), o).sum().backward()
    assert torch.isfinite(o.grad).all()


def _circles(radii_x: list[tuple[int, int]], size: int = 64) -> np.ndarray:
    frame = np.full((size, size, 3), 255, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    for r, cx in radii_x:
        frame[(yy - size // 2) ** 2 + (xx - cx) ** 2 <= r * r] = hex_to_rgb(PALETTE["red"])
    return frame[None]


def test_selectors_pick_pieces_by_size_and_position():
    frames = _circles([(3, 10), (7, 30), (5, 52)])
    video = torch.from_numpy(frames).float().div(255).permute(0, 3, 1, 2).unsqueeze(0)
    o = KERNELS["color"](Exact(), video, PALETTE["red"])
    xs = lambda m: float(KERNELS["x"](Exact(), m))
    assert xs(KERNELS["largest"](Exact(), o)) == pytest.approx(30.5 / 64)
    assert xs(KERNELS["smallest"](Exact(), o)) == pytest.approx(10.5 / 64)
    assert [round(xs(KERNELS["nth"](Exact(), o, k, "x")) * 64) for k in (1, 2, 3)] == [10, 30, 52]
    assert [round(xs(KERNELS["nth"](Exact(), o, k, "area")) * 64) for k in (1, 2, 3)] == [10, 52, 30]
    assert not KERNELS["nth"](Exact(), o, 4, "x").any()
    assert float(KERNELS["components"](Exact(), o)) == 3


def test_sorted_by_size_is_a_short_rule():
    rules = ('object circles = color("#e53935")\n'
             'goal sorted : at end (x(smallest(circles)) < x(nth(circles, 2, by="area")) and x(nth(circles, 2, by="area")) < x(largest(circles)))\n')
    assert check_frames(compile_rules(rules, num_frames=1), _circles([(3, 10), (5, 30), (7, 50)])).report.rules[0].passed.item()
    assert not check_frames(compile_rules(rules, num_frames=1), _circles([(3, 10), (7, 30), (5, 52)])).report.rules[0].passed.item()


def test_selectors_pass_gradients_to_the_chosen_piece_only_and_stay_finite_when_empty():
    o = torch.zeros(1, 1, 16, 16)
    o[..., 2:4, 2:4] = 0.9
    o[..., 8:14, 8:14] = 0.9
    o.requires_grad_(True)
    KERNELS["area"](Smooth(), KERNELS["largest"](Smooth(), o)).sum().backward()
    assert o.grad[..., 8:14, 8:14].gt(0).all() and o.grad[..., 2:4, 2:4].eq(0).all()
    empty = torch.zeros(1, 1, 8, 8, requires_grad=True)
    for name in ("largest", "smallest"):
        KERNELS["x"](Smooth(), KERNELS[name](Smooth(), empty)).sum().backward()
    assert torch.isfinite(empty.grad).all()


def test_checker_rejects_bad_selector_arguments():
    from rulec.diagnostics import RulesError

    for bad in ('nth(c, 0)', 'nth(c, 1, by="z")', 'nth(c, 1.5)'):
        with pytest.raises(RulesError):
            compile_rules(f'object c = color("#e53935")\ngoal g : always present({bad})\n')


# ---------------------------------------------------------------- the same verdict at 2x and 4x
SCALE_RULES = """object agent = color("#e53935")
object circles = color("#1e88e5")
region goal = color("#43a047") at start
goal reach : eventually inside(agent, goal)
process shown : always present(agent)
process sorted : always x(smallest(circles)) < x(largest(circles))
process low : always bottom_edge(agent) < 0.9 and top_edge(agent) > 0.05
process side : always left_edge(goal) > 0.5 and right_edge(goal) < 0.95
process near : eventually near(agent, goal, d=0.2)
process still : always unchanged(goal)
"""


@st.composite
def small_scenes(draw):
    size = 24
    frames = np.full((4, size, size, 3), 255, np.uint8)
    gx, gy = draw(st.integers(10, 16)), draw(st.integers(2, 14))
    big, small = draw(st.sampled_from([(0, 18), (18, 0)]))
    ax, ay = draw(st.integers(1, 8)), draw(st.integers(2, 18))
    for t in range(4):
        f = frames[t]
        f[gy : gy + 7, gx : gx + 7] = hex_to_rgb(PALETTE["green"])
        f[20:23, big : big + 3] = hex_to_rgb(PALETTE["blue"])
        f[21:22, small + 1 : small + 2] = hex_to_rgb(PALETTE["blue"])
        x = ax + t * draw(st.integers(0, 3))
        f[ay : ay + 3, x : x + 3] = hex_to_rgb(PALETTE["red"])
    return frames


def _upscale(frames: np.ndarray, k: int, how: str) -> np.ndarray:
    if how == "nearest":
        return frames.repeat(k, 1).repeat(k, 2)
    t = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    up = torch.nn.functional.interpolate(t, scale_factor=k, mode="area")  # area resampling of whole pixels
    return up.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenes(), st.sampled_from([2, 4]), st.sampled_from(["nearest", "area"]))
def test_normalized_rules_keep_their_verdicts_at_2x_and_4x(frames, k, how):
    def verdicts(fr):
        report = check_frames(compile_rules(SCALE_RULES, num_frames=fr.shape[0]), fr).report
        return {r.name: bool(r.passed[0]) for r in report.rules}

    assert verdicts(_upscale(frames, k, how)) == verdicts(frames)


def test_smooth_extents_ignore_far_sigmoid_tails():
    m = _mask() * 0.98 + 1e-5  # a soft detector's tails over the whole frame
    for side in SIDES:
        assert abs(float(KERNELS[side](Smooth(), m)) - float(KERNELS[side](Exact(), m))) < 0.06, side
