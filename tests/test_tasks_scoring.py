"""The scorers' numpy helpers: labeling, snapping, tracking, and their tolerances."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis.extra.numpy import arrays

from rulec.runtime.tasks import world
from rulec.runtime.tasks import scoring


def _flood_count(mask: np.ndarray) -> int:
    """Reference: number of 8-connected components by explicit flood fill."""
    seen = np.zeros_like(mask)
    n = 0
    h, w = mask.shape
    for y in range(h):
        for x in range(w):
            if mask[y, x] and not seen[y, x]:
                n += 1
                stack = [(y, x)]
                seen[y, x] = True
                while stack:
                    cy, cx = stack.pop()
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            ny, nx = cy + dy, cx + dx
                            if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                                seen[ny, nx] = True
                                stack.append((ny, nx))
    return n


@given(arrays(bool, (12, 12)))
def test_label_matches_flood_fill(mask):
    lab = scoring.label(mask)
    assert lab.max() == _flood_count(mask)
    assert np.array_equal(lab > 0, mask)


def test_label_spiral_needs_many_iterations():
    m = np.zeros((9, 9), dtype=bool)
    m[0, :] = m[:, 8] = m[8, :] = m[2:, 0] = m[2, :7] = m[2:7, 6] = m[6, 2:7] = True
    assert scoring.label(m).max() == 1


def test_snap_sends_fringe_colours_to_the_nearest_palette_colour():
    frame = world.blank()
    frame = world.paint(frame, world.disc_mask(32, 10.5, 10.5), "red")
    palette = scoring.palette_of(frame)
    noisy = frame.astype(int)
    noisy[10, 10] += (-6, 5, 4)
    noisy[0, 0] -= 7
    classes = scoring.snap(np.clip(noisy, 0, 255).astype(np.uint8), palette)
    assert np.array_equal(classes, scoring.snap(frame, palette))


def _video(positions, colour="red", extra=None):
    frames = []
    for x, y in positions:
        f = world.paint(world.blank(), world.disc_mask(32, x + 0.5, y + 0.5), colour)
        if extra is not None:
            f = extra(f)
        frames.append(f)
    return np.stack(frames)


def test_scene_checks_on_a_clean_motion():
    video = _video([(5 + 2 * t, 10) for t in range(8)])
    s = scoring.Scene(video[0], video, world.rgb("red"), world.rgb("white"))
    assert s.common_checks() == {k: True for k in s.common_checks()}


def test_a_speck_is_forgiven_but_a_second_blob_is_not():
    base = _video([(5 + 2 * t, 10) for t in range(8)])
    speck = base.copy()
    speck[4, 25, 25] = world.rgb("red")
    s = scoring.Scene(base[0], speck, world.rgb("red"), world.rgb("white"))
    assert s.agent_single() and s.scenery_unchanged()
    blob = base.copy()
    blob[4, 24:26, 24:26] = world.rgb("red")
    s = scoring.Scene(base[0], blob, world.rgb("red"), world.rgb("white"))
    assert not s.agent_single()


def test_jump_breaks_continuity():
    video = _video([(5, 10)] * 4 + [(9, 10)] * 4)
    s = scoring.Scene(video[0], video, world.rgb("red"), world.rgb("white"))
    assert not s.continuous() and s.agent_single()


def test_a_non_palette_video_is_snapped_not_rejected():
    video = _video([(5 + 2 * t, 10) for t in range(8)])
    tinted = np.clip(video.astype(int) - 10, 0, 255).astype(np.uint8)
    s = scoring.Scene(video[0], tinted, world.rgb("red"), world.rgb("white"))
    assert s.agent_single() and s.continuous() and s.scenery_unchanged()
