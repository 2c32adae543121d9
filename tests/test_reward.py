"""The compiled reward on hand-made videos: verdicts, failing frames, sharing, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rulec import RulesError, compile_rules
from rulec.check import check_frames, frame_ranges, frames_to_tensor
from rulec.primitives import kernels
from rulec.runtime.tasks import world

WALL = (15, 0, 18, 20)  # x0, y0, x1, y1: a bar the straight path must cross
GOAL = (22, 3, 31, 13)

MAZE_RULES = """
task maze "Move the red disc to the green square without touching the black walls."
object agent = color("#e53935")
region goal  = color("#43a047") at start
region walls = color("#000000") at start
region floor = not walls

goal    reach    : eventually[-2:] inside(agent, goal)
process corridor : always inside(agent, floor)
"""


def scene() -> np.ndarray:
    frame = world.blank()
    frame = world.paint(frame, world.rect_mask(32, *WALL), "black")
    return world.paint(frame, world.rect_mask(32, *GOAL), "green")


def video_along(points: list[tuple[float, float]]) -> np.ndarray:
    """The red disc at constant speed along a polyline, resting at its end for the last frames."""
    return np.stack([world.paint(scene(), world.disc_mask(32, *p), "red") for p in world.along_polyline(points)])


CROSSING = [(6.0, 8.0), (26.0, 8.0)]
AROUND = [(6.0, 8.0), (6.0, 26.0), (26.0, 26.0), (26.0, 8.0)]


def expected_wall_frames(video: np.ndarray) -> list[int]:
    """Frames where more than 10 % of the red pixels lie on the first frame's walls (numpy, independent)."""
    walls = world.colour_mask(video[0], "black")
    red = world.colour_mask(video, "red")
    share = (red & walls[None]).sum((1, 2)) / red.sum((1, 2))
    return [t for t in range(len(video)) if share[t] > 0.1]


def by_name(report):
    return {r.name: r for r in report.rules}


def test_crossing_fails_corridor_at_the_crossing_frames_and_passes_reach():
    video = video_along(CROSSING)
    compiled = compile_rules(MAZE_RULES, num_frames=16)
    result = check_frames(compiled, video)
    rules = by_name(result.report)
    assert bool(rules["reach"].passed[0])
    assert not bool(rules["corridor"].passed[0])
    failing = rules["corridor"].failed_frames(0)
    assert failing == expected_wall_frames(video)
    assert failing and 0 not in failing and 15 not in failing  # the crossing is mid-video
    assert not bool(result.report.passed[0])


def test_same_task_without_the_crossing_passes_both():
    video = video_along(AROUND)
    assert expected_wall_frames(video) == []
    result = check_frames(compile_rules(MAZE_RULES, num_frames=16), video)
    assert all(bool(r.passed[0]) for r in result.report.rules)
    assert bool(result.report.passed[0])
    assert result.report.to_json()["rules"][1]["failed_frames"] == []


def test_stopping_short_fails_reach():
    video = video_along([(6.0, 26.0), (14.0, 26.0)])
    rules = by_name(check_frames(compile_rules(MAZE_RULES, num_frames=16), video).report)
    assert not bool(rules["reach"].passed[0])
    assert bool(rules["corridor"].passed[0])


def test_batched_equals_one_at_a_time():
    a, b = frames_to_tensor(video_along(CROSSING)), frames_to_tensor(video_along(AROUND))
    reward = compile_rules(MAZE_RULES).to_reward()
    both = reward(torch.cat([a, b]))
    for i, single in enumerate((reward(a), reward(b))):
        torch.testing.assert_close(both.sample_loss[i], single.sample_loss[0])
        for rb, rs in zip(both.rules, single.rules):
            assert bool(rb.passed[i]) == bool(rs.passed[0])
            torch.testing.assert_close(rb.exact[i], rs.exact[0])
            torch.testing.assert_close(rb.smooth[i], rs.smooth[0])


def test_smooth_is_below_exact_for_every_rule():
    for path in (CROSSING, AROUND):
        report = compile_rules(MAZE_RULES).to_reward(beta=5.0)(frames_to_tensor(video_along(path)))
        for rule in report.rules:
            assert float(rule.smooth[0]) <= float(rule.exact[0]) + 1e-6


def test_agent_detector_runs_once_per_semantics_however_many_rules_use_it(monkeypatch):
    calls = []
    original = kernels.KERNELS["color"]

    def counting(sem, video, hex_colour, tol):
        calls.append(hex_colour)
        return original(sem, video, hex_colour, tol)

    monkeypatch.setitem(kernels.KERNELS, "color", counting)
    many = MAZE_RULES + "".join(f"process p{i} : always present(agent)\n" for i in range(5))
    video = frames_to_tensor(video_along(AROUND))
    for text in (MAZE_RULES, many):
        calls.clear()
        compile_rules(text).to_reward()(video)  # exact + smooth
        # on the video, and on the first frame (the regions' holes under objects, present's frame-0 area)
        assert calls.count("#e53935") == 4
        assert calls.count("#000000") == 2


def test_each_input_is_converted_to_lab_once_per_call_for_both_passes(monkeypatch):
    from rulec.primitives import detectors

    conversions = []
    original = detectors._lab
    monkeypatch.setattr(detectors, "_lab", lambda v: conversions.append(tuple(v.shape)) or original(v))
    reward = compile_rules(MAZE_RULES).to_reward()
    video = frames_to_tensor(video_along(AROUND))
    for _ in range(2):  # nothing carries over from one call to the next
        conversions.clear()
        reward(video)  # agent on the video, walls and goal on the first frame; exact + smooth
        b, t, c, h, w = video.shape
        assert sorted(conversions) == sorted([(b, t, c, h, w), (b, 1, c, h, w)])


def test_loss_gradient_pulls_on_a_failing_rule_and_not_on_a_satisfied_one():
    corridor_only = MAZE_RULES.replace("goal    reach    : eventually[-2:] inside(agent, goal)\n", "goal    reach    : always present(agent)\n")
    reward = compile_rules(corridor_only).to_reward()
    grads = {}
    for name, path in (("crossing", CROSSING), ("around", AROUND)):
        video = frames_to_tensor(video_along(path)).requires_grad_(True)
        reward(video).loss.backward()
        assert torch.isfinite(video.grad).all()
        grads[name] = video.grad.abs().sum().item()
    assert grads["crossing"] > 0
    assert grads["around"] < 0.05 * grads["crossing"]


def test_video_dependent_errors_are_diagnostics_naming_the_rule():
    compiled = compile_rules(MAZE_RULES)
    reward = compiled.to_reward()
    good = frames_to_tensor(video_along(AROUND))
    with pytest.raises(RulesError, match="E502"):
        reward(good[:, :, :2])
    with pytest.raises(RulesError, match="E503"):
        reward(good * 255)
    with pytest.raises(RulesError, match="E501"):
        reward(good[0])
    with pytest.raises(RulesError) as err:
        reward(good[:, :1])  # eventually[-2:] needs two frames
    text = str(err.value)
    assert "E302" in text and "reach" in text and ":8:" in text  # the rule's line in the source
    assert "eventually[-2:] inside(agent, goal)" in text  # quoted with carets under it
    grow_rules = MAZE_RULES + "process margin : always inside(agent, not grow(walls, 20px))\n"
    with pytest.raises(RulesError, match="E504"):
        compile_rules(grow_rules).to_reward()(good)


def test_frame_ranges():
    assert frame_ranges([]) == "-"
    assert frame_ranges([3, 4, 5, 9]) == "3-5, 9"
    assert frame_ranges([1]) == "1"
