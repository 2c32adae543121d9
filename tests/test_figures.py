"""Doc pictures of instances (`rulec tasks show`): labelled, framed, large enough to read."""

from __future__ import annotations

import numpy as np

from rulec.runtime.tasks.figures import BIG_SIDE, BORDER_COLOUR, STRIP_SIDE, fit, label, sheet


def _video(frames: int = 16, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8)


def _find(page: np.ndarray, patch: np.ndarray) -> list[tuple[int, int]]:
    """Top-left corners where ``patch`` occurs in ``page`` exactly."""
    ph, pw = patch.shape[:2]
    h, w = page.shape[0] - ph + 1, page.shape[1] - pw + 1
    probes = np.ones((h, w), dtype=bool)  # narrowed by a few probe pixels, then checked whole
    for py, px in ((0, 0), (ph - 1, pw - 1), (ph // 2, pw // 3), (ph // 3, pw - 5)):
        probes &= np.all(page[py:py + h, px:px + w] == patch[py, px], axis=-1)
    return [(y, x) for y, x in zip(*np.nonzero(probes)) if np.array_equal(page[y:y + ph, x:x + pw], patch)]


def test_sheet_shows_first_and_last_large_and_every_other_frame_numbered():
    video = _video()
    page = sheet(video)
    big_first, big_last = fit(video[0], BIG_SIDE), fit(video[-1], BIG_SIDE)
    assert big_first.shape[:2] == (BIG_SIDE, BIG_SIDE)  # 32 px enlarged 8x, not 32x32 on the page
    (y0, x0), = _find(page, big_first)
    (y1, x1), = _find(page, big_last)
    assert y0 == y1 and x1 > x0 + BIG_SIDE  # side by side
    assert tuple(page[y0 - 1, x0 + 5]) == BORDER_COLOUR  # framed: a white scene stays apart from the page
    shown = [t for t in range(16) if _find(page, fit(video[t], STRIP_SIDE))]
    assert shown == [0, 2, 4, 6, 8, 10, 12, 14, 15]
    # a caption above each frame: dark text pixels in the strip just above it
    for t in shown:
        (y, x), = _find(page, fit(video[t], STRIP_SIDE))
        above = page[y - 24:y - 2, x:x + STRIP_SIDE]
        assert (above.max(-1) < 100).sum() > 20, t


def test_labels_differ_by_text_and_large_frames_are_shrunk():
    assert not np.array_equal(label("frame 2", 100), label("frame 3", 100))
    big = _video(4, 600)
    assert fit(big[0], STRIP_SIDE).shape[:2] == (STRIP_SIDE, STRIP_SIDE)
    page = sheet(big, title="instance")
    assert page.shape[1] < 1600
