"""`rulec run`'s report.png: base and chosen video side by side and large, the loss and a chart per rule."""

from __future__ import annotations

import numpy as np
from PIL import Image

from rulec.runtime.optimize.report import MIN_FRAME_PX, render_visual_report, write_visual_report


def _video(seed: int, frames: int = 16, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8)


def _history(steps: int = 6) -> list[dict]:
    names = ["reach", "close", "one", "size", "steady", "scenery"]
    return [{"step": s, "loss": 1.0 / (s + 1),
             "rules": [{"name": n, "kind": "goal" if i < 2 else "process", "robustness": -1.0 + 0.4 * s if i < 2 else 1.0,
                        "passed": (-1.0 + 0.4 * s > 0) if i < 2 else True} for i, n in enumerate(names)]}
            for s in range(steps)]


def _frames(fig, key: str):
    return {int(ax.get_label().rsplit(" ", 1)[1]): ax for ax in fig.axes if ax.get_label().startswith(f"{key} frame ")}


def test_base_and_optimized_side_by_side_large_and_numbered():
    fig = render_visual_report(_video(0), _video(1), _history(), "navigate_00000: tto -> PASS (6/6 rules)")
    fig.canvas.draw()
    before, after = _frames(fig, "before"), _frames(fig, "after")
    assert sorted(before) == sorted(after) and len(before) == 8 and 0 in before and 15 in before
    for t in before:
        b, a = before[t].get_window_extent(), after[t].get_window_extent()
        assert round(min(b.width, b.height, a.width, a.height)) >= MIN_FRAME_PX
        assert abs(b.y0 - a.y0) < 1 and b.x1 < a.x0  # the same frame of both on one row, base on the left
        assert before[t].get_title() == f"frame {t}"
    # the shown pixels are the video's frames, enlarged without blending
    shown = before[15].get_images()[0].get_array()
    k = shown.shape[0] // 32
    assert np.array_equal(shown[::k, ::k], _video(0)[15])


def test_loss_and_one_chart_per_rule_with_its_values():
    history = _history()
    fig = render_visual_report(_video(0), _video(1), history, "t")
    loss = next(ax for ax in fig.axes if ax.get_label() == "loss")
    assert np.allclose(loss.lines[0].get_ydata(), [h["loss"] for h in history])
    charts = {ax.get_label(): ax for ax in fig.axes if ax.get_label().startswith("rule ")}
    assert list(charts) == [f"rule {r['name']}" for r in history[0]["rules"]]  # one each: identical curves cannot hide
    reach = charts["rule reach"]
    assert reach.get_title(loc="left") == "goal reach: -1.00 -> +1.00 (pass)"
    assert np.allclose(reach.lines[-1].get_ydata(), [h["rules"][0]["robustness"] for h in history])


def test_without_history_only_the_videos(tmp_path):
    out = write_visual_report(tmp_path / "report.png", _video(0, 12, 64), _video(1, 12, 64), None, "best-of-n")
    w, h = Image.open(out).size
    assert 1200 <= w <= 1600 and h < 800
    fig = render_visual_report(_video(0, 12, 64), _video(1, 12, 64), None, "best-of-n")
    assert not [ax for ax in fig.axes if ax.get_label() == "loss"]


def test_large_frames_are_shrunk_to_fit(tmp_path):
    fig = render_visual_report(_video(0, 4, 480), _video(1, 4, 480), _history(2), "big")
    fig.canvas.draw()
    for ax in _frames(fig, "after").values():
        assert MIN_FRAME_PX <= round(ax.get_window_extent().width) <= 200
    assert fig.get_size_inches()[0] * 100 <= 1600


def test_best_of_n_shows_each_rule_for_both_videos():
    history = _history(3)
    base, chosen = {"rules": history[0]["rules"]}, {"rules": history[-1]["rules"]}
    fig = render_visual_report(_video(0), _video(1), None, "best-of-n", verdicts=(base, chosen))
    ax = next(ax for ax in fig.axes if ax.get_label() == "verdicts")
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [r["robustness"] for r in base["rules"]] + [round(r["robustness"], 6) for r in chosen["rules"]]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [r["name"] for r in chosen["rules"]]
