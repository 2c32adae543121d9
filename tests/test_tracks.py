"""track(): one object of a same-colour set followed over time (#20), the same verdict whole,
chunked (the reward on large videos) and streamed (rulec check), and through occlusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rulec import compile_rules
from rulec.frames import to_float
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Smooth
from rulec.stream import StreamingEvaluator

T, H = 20, 48
RED = (200, 30, 30)

RULES = """object cards = color("#c81e1e")
region left = box(0, 0, 0.5, 1)
goal swapped : at end (not inside(track(cards, 1), left) and inside(track(cards, 2), left))
goal leftmost_moved : at end not inside(nth(cards, 1), left)
process seen : always eventually[0:4] present(track(cards, 1))
"""


def _video(path_a, path_b, hide_a=()) -> np.ndarray:
    """Two red squares, at x = path_a[t] (row 8) and x = path_b[t] (row 28); ``hide_a``: frames
    where square a is not drawn."""
    frames = []
    for t in range(T):
        f = np.full((H, H, 3), 255, np.uint8)
        if t not in hide_a:
            f[8:14, path_a[t] : path_a[t] + 6] = RED
        f[28:34, path_b[t] : path_b[t] + 6] = RED
        frames.append(f)
    return np.stack(frames)


def _line(a, b):
    return [int(round(a + (b - a) * t / (T - 1))) for t in range(T)]


SWAP = _video(_line(4, 36), _line(36, 4))
#: each square goes to the other side and comes back: no swap
FAKE = _video(_line(4, 36)[::2] + _line(36, 4)[::2], _line(36, 4)[::2] + _line(4, 36)[::2])


def verdicts(rules: str, video: np.ndarray, how: str) -> dict[str, bool]:
    compiled = compile_rules(rules, name="t", num_frames=len(video))
    if how == "streamed":
        report, _ = StreamingEvaluator(compiled).run(video[i : i + 3] for i in range(0, len(video), 3))
    else:
        reward = compiled.to_reward()
        if how == "chunked":
            reward.whole_pixels, reward.chunk_pixels = 1, 3 * H * H  # 3 frames a chunk
        with torch.no_grad():
            report = reward(to_float(video[None]))
    return {r.name: bool(r.passed[0]) for r in report.rules}


@pytest.mark.parametrize("how", ["whole", "chunked", "streamed"])
def test_a_track_keeps_its_identity_where_the_leftmost_piece_changes(how):
    got = verdicts(RULES, SWAP, how)
    assert got["swapped"] and got["seen"]
    # nth is re-chosen every frame: at the end the leftmost piece is the other card, on the left
    assert not got["leftmost_moved"]
    fake = verdicts(RULES, FAKE, how)
    assert not fake["swapped"]


@pytest.mark.parametrize("how", ["whole", "chunked", "streamed"])
def test_a_hidden_track_is_found_again_where_it_reappears(how):
    # card a is hidden for 3 frames mid-way (behind something, or gone): found again, and
    # "hidden for at most 3 frames" holds
    got = verdicts(RULES, _video(_line(4, 36), _line(36, 4), hide_a=(8, 9, 10)), how)
    assert got["swapped"] and got["seen"]
    # hidden for 6 frames: still found again, but hidden too long for "seen"
    got = verdicts(RULES, _video(_line(4, 36), _line(36, 4), hide_a=range(6, 12)), how)
    assert got["swapped"] and not got["seen"]


def test_a_duplicate_belongs_to_no_track():
    video = SWAP.copy()
    video[10:, 40:46, 40:46] = RED  # a third square appears late, far from both tracks
    k1 = KERNELS["track"](Exact(), None, to_float(video[None])[:, :, 0] < 0.9, 1)
    # the extra piece is never taken: track 1's pixels stay one 6x6 square in every frame
    assert (k1.sum((-2, -1)) == 36).all()


@given(st.lists(st.integers(2, 40), min_size=T, max_size=T), st.lists(st.integers(2, 40), min_size=T, max_size=T),
       st.integers(2, 7))
@settings(max_examples=25, deadline=None)
def test_chunked_and_streamed_tracks_match_the_whole_video(xa, xb, chunk):
    video = _video(xa, xb)
    rules = RULES.replace("eventually[0:4] ", "")
    compiled = compile_rules(rules, name="t", num_frames=T)
    whole = verdicts(rules, video, "whole")
    report, _ = StreamingEvaluator(compiled).run(video[i : i + chunk] for i in range(0, T, chunk))
    assert {r.name: bool(r.passed[0]) for r in report.rules} == whole
    reward = compiled.to_reward()
    reward.whole_pixels, reward.chunk_pixels = 1, chunk * H * H
    with torch.no_grad():
        chunked = reward(to_float(video[None]))
    assert {r.name: bool(r.passed[0]) for r in chunked.rules} == whole


def test_gradient_flows_through_the_tracked_piece_only_and_is_finite_on_an_empty_mask():
    o = torch.zeros(1, 3, 16, 16)
    o[..., 2:6, 2:6] = 0.9
    o[..., 10:14, 10:14] = 0.9
    o.requires_grad_(True)
    KERNELS["track"](Smooth(), None, o, 2).sum().backward()
    assert o.grad[..., 10:14, 10:14].eq(1).all() and o.grad[..., 2:6, 2:6].eq(0).all()
    empty = torch.zeros(1, 3, 16, 16, requires_grad=True)
    KERNELS["track"](Smooth(), None, empty, 1).sum().backward()
    assert torch.isfinite(empty.grad).all() and not empty.grad.any()


def test_track_arguments_are_checked_with_a_span():
    from rulec.diagnostics import RulesError

    with pytest.raises(RulesError) as err:
        compile_rules('object c = color("#c81e1e")\ngoal g : at end present(track(c, 0))\n', name="t")
    assert "E211" in str(err.value) and ":2:" in str(err.value)
    with pytest.raises(RulesError) as err:
        compile_rules('object c = color("#c81e1e")\ngoal g : at end present(track(c, 1, by="size"))\n', name="t")
    assert "E211" in str(err.value)
