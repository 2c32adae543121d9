"""Quantifiers over instances (#20): ``all c in S: A`` / ``any c, d in S: A``, each variable one
object of a same-colour set followed over time; the same verdicts as the rules written out per
instance with ``track``, whole, chunked and streamed; checked with spans."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rulec import RulesError, compile_rules
from rulec.frames import to_float
from rulec.limits import MAX_INSTANCES
from rulec.primitives import instances
from rulec.stream import StreamingEvaluator

H, T = 80, 6
BLUE = (30, 136, 229)
HEAD = 'object circles = color("#1e88e5")\nregion right = box(0.5, 0, 1, 1)\n'
SORTED = "goal sorted : at end (all c, d in circles: left_of(c, d) implies area(c) < area(d))\n"


def _discs(layout: list[tuple[int, int, int]], frames: int = T) -> np.ndarray:
    """Blue discs ``(x, y, radius)`` in px on white, the same in every frame."""
    yy, xx = np.mgrid[:H, :H]
    f = np.full((H, H, 3), 255, np.uint8)
    for x, y, r in layout:
        f[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = BLUE
    return np.repeat(f[None], frames, axis=0)


def _report(rules: str, video: np.ndarray, how: str = "whole"):
    compiled = compile_rules(rules, name="q", num_frames=len(video))
    if how == "streamed":
        return StreamingEvaluator(compiled).run(video[i : i + 2] for i in range(0, len(video), 2))[0]
    reward = compiled.to_reward()
    if how == "chunked":
        reward.whole_pixels, reward.chunk_pixels = 1, 2 * H * H
    with torch.no_grad():
        return reward(to_float(video[None]))


def _exact(rules: str, video: np.ndarray, how: str = "whole") -> dict[str, float]:
    return {r.name: float(r.exact) for r in _report(rules, video, how).rules}


#: up to five discs on one row, radii 2..6 px, 15 px apart so they never touch
layouts = st.lists(st.integers(2, 6), min_size=0, max_size=5).map(
    lambda radii: [(8 + 15 * i, 24, r) for i, r in enumerate(radii)])


@settings(max_examples=25)
@given(layouts)
def test_all_and_any_equal_the_rules_written_out_per_instance(layout):
    video = _discs(layout)
    n = len(layout)
    written = [f"at end x(track(circles, {k})) < 0.6" for k in range(1, n + 1)]
    rules = (HEAD + "goal every : all c in circles: at end x(c) < 0.6\n"
             + "goal some : any c in circles: at end x(c) < 0.6\n")
    got = _exact(rules, video)
    if n == 0:  # vacuous: every instance holds, and there is none to hold
        assert got == {"every": 1.0, "some": -1.0}
        return
    expected = _exact(HEAD + f"goal every : {' and '.join(written)}\ngoal some : {' or '.join(written)}\n", video)
    assert got == pytest.approx(expected, abs=1e-6)


@settings(max_examples=25)
@given(st.permutations([2, 3, 4, 5, 6]), st.integers(2, 5))
def test_sorted_by_size_is_one_rule(radii, n):
    radii = radii[:n]
    video = _discs([(8 + 15 * i, 24, r) for i, r in enumerate(radii)])
    passed = _exact(HEAD + SORTED, video)["sorted"] > 0
    assert passed == (list(radii) == sorted(radii))


def test_negation_swaps_all_and_any():
    video = _discs([(6, 24, 3), (30, 24, 4)])
    got = _exact(HEAD + "goal a : not (all c in circles: inside(c, right))\n"
                        "goal b : any c in circles: not inside(c, right)\n", video)
    assert got["a"] == pytest.approx(got["b"]) and got["a"] > 0


@pytest.mark.parametrize("how", ["chunked", "streamed"])
def test_chunked_and_streamed_quantifiers_match_the_whole_video(how):
    frames = []
    for t in range(T):  # the small disc walks right past the big one
        frames.append(_discs([(6 + 7 * t, 12, 3), (24, 34, 6)], 1)[0])
    video = np.stack(frames)
    rules = (HEAD + SORTED + "process kept : all c in circles: always present(c)\n"
             "goal one_right : any c in circles: at end inside(c, right)\n")
    assert _exact(rules, video, how) == pytest.approx(_exact(rules, video), abs=1e-6)


def test_every_track_of_a_mask_shares_one_labelling(monkeypatch):
    calls = []
    real = instances.pieces
    monkeypatch.setattr("rulec.primitives.tracks.pieces", lambda frame: calls.append(1) or real(frame))
    video = _discs([(6, 24, 3), (15, 24, 4), (24, 24, 5), (33, 24, 6)])
    _report(HEAD + SORTED + "process p : all c in circles: always present(c)\n", video)
    # one labelling per frame and pass (exact, smooth) of each tracked mask (the video's and
    # the frozen first frame's, for present's area at start), not one per track
    assert 0 < len(calls) <= 2 * (T + 1)


def test_smooth_is_a_lower_bound_and_gradients_are_finite():
    video = to_float(_discs([(6, 24, 3), (20, 24, 5), (36, 24, 4)])[None]).requires_grad_(True)
    reward = compile_rules(HEAD + SORTED + "process p : all c in circles: always present(c)\n"
                           "goal g : any c in circles: at end inside(c, right)\n", name="q").to_reward()
    report = reward(video)
    for r in report.rules:
        assert float(r.smooth.detach()) <= float(r.exact) + 1e-6
    report.loss.backward()
    assert torch.isfinite(video.grad).all() and video.grad.abs().sum() > 0


def test_more_instances_than_the_limit_is_a_clear_error():
    video = _discs([(3 + 5 * i, 24, 1) for i in range(MAX_INSTANCES + 1)])
    with pytest.raises(RulesError) as info:
        _report(HEAD + SORTED, video)
    d = info.value.diagnostics[0]
    assert d.code == "E506" and f"is {MAX_INSTANCES + 1} in the first frame" in d.message and d.span.line == 3


def test_rulec_check_reports_the_limit_without_a_traceback(tmp_path):
    from rulec.cli.app import app
    from rulec.runtime.video_io import write_video

    rules = tmp_path / "r.rules"
    rules.write_text(HEAD + SORTED)
    write_video(tmp_path / "v.mp4", _discs([(3 + 5 * i, 24, 1) for i in range(MAX_INSTANCES + 1)], 4))
    result = CliRunner().invoke(app, ["check", str(rules), str(tmp_path / "v.mp4")])
    # rules that do not fit the video: exit code 2, as for a window longer than the video (docs/cli.md)
    assert result.exit_code == 2 and "E506" in result.output and "Traceback" not in result.output


def test_an_end_counting_window_under_a_top_level_quantifier_is_outermost():
    video = _discs([(50, 24, 3), (65, 24, 3)])
    got = _exact(HEAD + "goal g : all c in circles: eventually[-2:] inside(c, right)\n", video)
    assert got["g"] > 0


@pytest.mark.parametrize("text,code,where", [
    ("goal g : all circles in circles: present(circles)\n", "E110", "circles"),
    ("goal g : all c, c in circles: near(c, c)\n", "E110", "c"),
    ("goal g : all area in circles: present(area)\n", "E110", "area"),
    ("goal g : all c in circles: all c in circles: present(c)\n", "E110", "c"),
    ("goal g : all a, b in circles: all c, d in circles: near(a, c) or near(b, d)\n", "E111", "c, d"),
    ("goal g : all c in speed(circles): present(c)\n", "E201", "speed(circles)"),
    ("goal g : all c in circles: area(c)\n", "E201", "area(c)"),
    ("goal g : (all c in circles: present(c)) and present(c)\n", "E101", "c"),
])
def test_quantifier_errors_point_at_the_culprit(text, code, where):
    with pytest.raises(RulesError) as info:
        compile_rules(HEAD + text, name="q.rules")
    found = [d for d in info.value.diagnostics if d.code == code]
    assert found, [d.code for d in info.value.diagnostics]
    span = found[0].span
    source = HEAD + text
    assert span.line == 3 and source.splitlines()[2][span.column - 1 : span.end_column - 1] == where


def test_an_unused_variable_is_a_warning():
    compiled = compile_rules(HEAD + "goal g : all c in circles: present(circles)\n", name="q")
    assert [w.code for w in compiled.warnings if w.code == "W004"] == ["W004"]


def test_a_rule_that_expands_too_far_is_refused():
    body = " and ".join(["near(a, b) and near(b, c)"] * 150)
    with pytest.raises(RulesError) as info:
        compile_rules(HEAD + f"goal g : all a, b, c in circles: {body}\n", name="q")
    assert [d.code for d in info.value.diagnostics] == ["E014"]


def test_the_expansion_bound_is_for_the_whole_file():
    body = " and ".join(["near(a, b)"] * 20)
    rules = "".join(f"goal g{i} : all a, b, c in circles: {body}\n" for i in range(20))
    with pytest.raises(RulesError) as info:
        compile_rules(HEAD + rules, name="q")
    assert [d.code for d in info.value.diagnostics] == ["E014"]


def test_a_failing_quantified_rule_names_the_instances_that_fail():
    import json
    from pathlib import Path

    import jsonschema

    # the middle circle is larger than the one on its right; the first pair is in order
    video = _discs([(8, 24, 2), (23, 24, 5), (38, 24, 3)])
    data = _report(HEAD + SORTED + "process p : all c in circles: always present(c)\n", video).to_json(0)
    schema = json.loads((Path(__file__).resolve().parents[1] / "docs" / "verdict.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    order, kept = data["rules"]
    assert order["witness"] == ("left_of(track(circles, 2), track(circles, 3)) implies "
                                "area(track(circles, 2)) < area(track(circles, 3))")
    assert "witness" not in kept  # it passes
