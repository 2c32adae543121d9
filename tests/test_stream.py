"""Streamed exact evaluation (rulec.stream) gives the whole-video verdicts, chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rulec import compile_rules
from rulec.check import check_file, check_frames
from rulec.primitives.measures import components
from rulec.primitives.semantics import Exact, Smooth
from rulec.runtime.video_io import VideoReadError, iter_video, read_video, write_video
from rulec.stream import ColourTable, StreamingEvaluator

TASKS = sorted(p for p in (Path(__file__).parent.parent / "examples" / "tasks").iterdir() if (p / "rules.txt").is_file())

#: every kind of frame-local node: colours live and frozen, a box, morphology, region algebra,
#: measures reading one or two frames (speed), fields, components, unchanged; and temporal
#: operators over them.
RULES = """
task mix "Exercise every frame-local primitive."
object agent = color("#e53935")
object block = color("#1e88e5", tol=20)
region goal  = color("#43a047") at start
region walls = color("#000000") at start
region floor = not walls
region left  = box(0.0, 0.0, 0.5, 1.0)
goal    reach    : eventually[-3:] inside(agent, goal)
goal    close    : at end path_distance(agent, goal, floor) < 0.3
goal    order    : inside(agent, left) then overlaps(agent, grow(goal, 2px))
process clear    : always not touches(agent, walls)
process moves    : eventually[1:] moving(agent)
process calm     : always speed(block) < 0.2
process still_b  : always[2:5] still(block, v=0.02)
process one      : always components(agent) < 2
process size     : always (area(agent) > 0.001 and area(shrink(floor, 1px) and block) < 0.5)
process scenery  : always unchanged(walls, tol=0.05)  weight 0.5
process toward   : progress distance(agent, goal)  weight 0.5
process pos      : (x(agent) < 0.9 until at end near(agent, goal, d=0.4)) or always left_of(block, goal)
"""

PALETTE = np.array([[255, 255, 255], [229, 57, 53], [30, 136, 229], [67, 160, 71], [0, 0, 0], [200, 60, 60]], np.uint8)


def random_video(seed: int, frames: int = 9, size: int = 24) -> np.ndarray:
    """Palette blobs that move, split and vanish, with noisy pixels near the colour thresholds."""
    rng = np.random.default_rng(seed)
    scene = np.zeros((size, size), np.int64)
    scene[rng.integers(0, size, 3), :] = 4  # wall rows
    gy, gx = rng.integers(0, size - 5, 2)
    scene[gy : gy + 5, gx : gx + 5] = 3
    out = np.empty((frames, size, size, 3), np.uint8)
    y, x = rng.integers(2, size - 6, 2)
    for t in range(frames):
        labels = scene.copy()
        y, x = np.clip([y + rng.integers(-3, 4), x + rng.integers(-3, 4)], 0, size - 4)
        if rng.random() > 0.15:  # sometimes the agent is gone
            labels[y : y + 4, x : x + 4] = 1
        if rng.random() > 0.5:  # sometimes a second red blob
            labels[rng.integers(0, size - 2), rng.integers(0, size - 2)] = 1
        by, bx = rng.integers(0, size - 3, 2)
        labels[by : by + 3, bx : bx + 3] = 2
        frame = PALETTE[labels].astype(np.int64)
        frame += rng.integers(-12, 13, frame.shape) * (rng.random(frame.shape[:2]) < 0.3)[..., None]
        out[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def verdicts(report) -> dict:
    data = report.to_json(0)
    return {r["name"]: (r["passed"], r["failed_frames"], r["robustness"]) for r in data["rules"]} | {"passed": data["passed"]}


@pytest.mark.parametrize("task", TASKS, ids=lambda p: p.name)
def test_streamed_check_matches_whole_video_on_the_examples(task):
    video = task / "ground_truth.mp4"
    whole = check_file(task / "rules.txt", video)
    streamed = check_file(task / "rules.txt", video, keep_frames=False)
    assert streamed.frames is None and streamed.num_frames == whole.num_frames
    assert streamed.to_json() == whole.to_json()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 9])
def test_streamed_verdicts_equal_whole_video_on_random_videos(seed, chunk):
    frames = random_video(seed)
    compiled = compile_rules(RULES, num_frames=frames.shape[0])
    whole = check_frames(compiled, frames).report
    chunks = [frames[i : i + chunk] for i in range(0, frames.shape[0], chunk)]
    streamed, num_frames = StreamingEvaluator(compiled).run(chunks)
    assert num_frames == frames.shape[0]
    assert verdicts(streamed) == verdicts(whole)
    for a, b in zip(streamed.rules, whole.rules):
        assert torch.equal(a.trace, b.trace), a.name


def test_random_videos_exercise_both_verdicts():
    """The comparison above is not vacuous: rules pass on some random videos and fail on others."""
    outcomes = set()
    for seed in range(6):
        frames = random_video(seed)
        report = check_frames(compile_rules(RULES, num_frames=frames.shape[0]), frames).report
        outcomes |= {(r.name, bool(r.passed[0])) for r in report.rules}
    assert len({name for name, passed in outcomes if passed}) >= 4
    assert len({name for name, passed in outcomes if not passed}) >= 4


def test_colour_table_decides_like_the_pixel_detector():
    """Every RGB triple on a grid plus random ones: the table's bit is color(Exact()) of the pixel."""
    from rulec.check import frames_to_tensor
    from rulec.primitives.detectors import color

    rng = np.random.default_rng(0)
    grid = np.stack(np.meshgrid(*[np.arange(0, 256, 5)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pixels = np.concatenate([grid, rng.integers(0, 256, (20000, 3)), PALETTE]).astype(np.uint8).reshape(1, 1, -1, 3)
    detectors = [("#e53935", 12.0), ("#1e88e5", 30.0), ("#000000", 5.0)]
    # more detectors than one table word holds, so a second table is read too
    detectors += [(f"#{v:02x}{255 - v:02x}{(7 * v) % 256:02x}", 15.0) for v in range(0, 256, 18)]
    from rulec.primitives.detectors import ColourSpace, Palette

    scene = PALETTE[np.arange(24 * 24).reshape(1, 24, 24) % len(PALETTE)]  # a first frame of palette colours
    palette = Palette(frames_to_tensor(scene), tuple(h for h, _ in detectors))
    table = ColourTable(detectors, palette)
    first = table.masks(pixels)
    second = table.masks(pixels[:, :, ::-1].copy())  # every triple now known: no classification
    for k, (hex_colour, tol) in enumerate(detectors):
        want = color(Exact(), ColourSpace(frames_to_tensor(pixels), palette=palette), hex_colour, tol)
        assert torch.equal(first[k], want), hex_colour
        assert torch.equal(second[k], want.flip(-1)), hex_colour
        assert 0 < int(want.sum()) < want.numel() or k >= 3


def test_ask_is_not_streamed():
    compiled = compile_rules('object a = color("#ff0000")\ngoal g : eventually ask("is it red?")\n')
    with pytest.raises(ValueError, match="whole video"):
        StreamingEvaluator(compiled)


def test_iter_video_gives_the_frames_of_read_video(tmp_path):
    frames = random_video(3, frames=7, size=16)
    for target in (tmp_path / "v.mp4", tmp_path / "frames"):
        write_video(target, frames)
        for n in (1, 3, 7, 10):
            chunks = list(iter_video(target, n))
            assert [c.shape[0] for c in chunks[:-1]] == [n] * (len(chunks) - 1)
            assert np.array_equal(np.concatenate(chunks), read_video(target))
    assert [c.shape[0] for c in iter_video(tmp_path / "v.mp4", lambda h, w: h // 8)] == [2, 2, 2, 1]


def test_iter_video_refuses_what_read_video_refuses(tmp_path, monkeypatch):
    with pytest.raises(VideoReadError, match="no such file"):
        list(iter_video(tmp_path / "missing.mp4", 4))
    write_video(tmp_path / "v.mp4", random_video(1, frames=6, size=16))
    monkeypatch.setenv("RULEC_MAX_VIDEO_FRAMES", "4")
    with pytest.raises(VideoReadError, match="RULEC_MAX_VIDEO_FRAMES"):
        list(iter_video(tmp_path / "v.mp4", 2))


def test_streamed_check_reports_unreadable_video_before_broken_rules(tmp_path):
    (tmp_path / "bad.rules").write_text("goal g : eventually nonsense(\n")
    (tmp_path / "v.mp4").write_bytes(b"not a video")
    with pytest.raises(VideoReadError):
        check_file(tmp_path / "bad.rules", tmp_path / "v.mp4", keep_frames=False)


def test_exact_components_label_a_frame_sized_snake():
    """One 8-connected serpentine blob over a 512x512 frame: one component, counted by scipy in one pass
    (the torch labelling needs a propagation step per pixel of its length)."""
    h = w = 512
    snake = np.zeros((h, w), bool)
    snake[::4] = True
    for i, row in enumerate(range(0, h - 4, 4)):
        col = w - 1 if i % 2 == 0 else 0
        snake[row : row + 5, col] = True
    mask = torch.from_numpy(snake).float().view(1, 1, h, w)
    assert components(Exact(), mask).tolist() == [[1.0]]
    two = torch.cat([mask, 1 - mask], dim=1)[..., :64, :64]
    assert components(Smooth(), two).tolist() == components(Exact(), two).tolist()


def test_a_codec_speck_is_no_component_at_any_size_but_a_small_frames_pixel_is():
    """The count's speck threshold is in frame units: a 1-px piece is an object in a 32x32 frame and
    a speck (noise) in a 512x512 one, as it was in a sort_by_size mp4 (4 circles counted as 5)."""
    for size, expected in ((32, 2), (512, 1)):
        m = torch.zeros(1, 1, size, size)
        m[..., 2 : size // 4, 2 : size // 4] = 1  # a square
        m[..., size - 3, size - 3] = 1  # one pixel
        assert components(Exact(), m).tolist() == [[expected]]
