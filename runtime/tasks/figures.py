"""Pictures of instances and videos for the docs and for looking at samples (numpy + Pillow).

Every picture is labelled (what each panel is, which frame), on a white page with each
frame framed in dark grey so white scenes stay apart, and large enough to read at 100 %
zoom: small frames are enlarged by whole numbers (each pixel one flat square), large ones
shrunk by area averaging.
"""

from __future__ import annotations

import numpy as np

GAP_COLOUR = (255, 255, 255)
BORDER_COLOUR = (55, 71, 79)
TEXT_COLOUR = (20, 20, 20)
BIG_SIDE = 256  # px, first and last frame
STRIP_SIDE = 128  # px, filmstrip frames
LABEL_PX = 18


def upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so each pixel stays one flat colour."""
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def fit(frame: np.ndarray, side: int) -> np.ndarray:
    """The frame with its longer side about ``side`` px: enlarged by the nearest whole
    number when small, shrunk to exactly ``side`` px (area average) when larger."""
    h, w = frame.shape[:2]
    if max(h, w) <= side:
        return upscale(frame, max(1, round(side / max(h, w))))
    from PIL import Image

    scale = side / max(h, w)
    return np.asarray(Image.fromarray(frame).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BOX))


def _font(px: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow < 10.1: the small bitmap font
        return ImageFont.load_default()


def label(text: str, width: int, px: int = LABEL_PX) -> np.ndarray:
    """A white strip ``width`` px wide with ``text`` on it (left-aligned)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (max(1, width), px + 8), GAP_COLOUR)
    draw = ImageDraw.Draw(img)
    draw.text((2, 3), text, fill=TEXT_COLOUR, font=_font(px))
    return np.asarray(img)


def framed(frame: np.ndarray, border: int = 2) -> np.ndarray:
    """A dark border around the frame."""
    h, w = frame.shape[:2]
    out = np.empty((h + 2 * border, w + 2 * border, 3), dtype=np.uint8)
    out[:] = BORDER_COLOUR
    out[border:border + h, border:border + w] = frame
    return out


def vstack(images: list[np.ndarray], gap: int = 0) -> np.ndarray:
    width = max(i.shape[1] for i in images)
    parts = []
    for k, img in enumerate(images):
        if k and gap:
            parts.append(np.full((gap, width, 3), GAP_COLOUR, dtype=np.uint8))
        pad = np.full((img.shape[0], width - img.shape[1], 3), GAP_COLOUR, dtype=np.uint8)
        parts.append(np.concatenate([img, pad], axis=1))
    return np.concatenate(parts, axis=0)


def hstack(images: list[np.ndarray], gap: int) -> np.ndarray:
    h = max(i.shape[0] for i in images)
    parts = []
    for k, img in enumerate(images):
        if k:
            parts.append(np.full((h, gap, 3), GAP_COLOUR, dtype=np.uint8))
        pad = np.full((h - img.shape[0], img.shape[1], 3), GAP_COLOUR, dtype=np.uint8)
        parts.append(np.concatenate([img, pad], axis=0))
    return np.concatenate(parts, axis=1)


def captioned(frame: np.ndarray, text: str, px: int = LABEL_PX) -> np.ndarray:
    """A framed frame with its caption above it."""
    body = framed(frame)
    return vstack([label(text, body.shape[1], px), body])


def frame_indices(length: int, every: int = 1) -> list[int]:
    """Every ``every``-th frame, always including the last."""
    idx = list(range(0, length, every))
    if idx[-1] != length - 1:
        idx.append(length - 1)
    return idx


def filmstrip(video: np.ndarray, scale: int | None = None, every: int = 1, gap: int = 6, side: int = STRIP_SIDE) -> np.ndarray:
    """Frames side by side (every ``every``-th frame, always including the last), each
    numbered; ``scale`` enlarges by that whole number instead of fitting to ``side`` px."""
    cells = [captioned(upscale(video[i], scale) if scale else fit(video[i], side), f"frame {i}") for i in frame_indices(len(video), every)]
    return hstack(cells, gap)


def first_and_last(video: np.ndarray, scale: int | None = None, gap: int = 16, side: int = BIG_SIDE) -> np.ndarray:
    """The first and the last frame, large and labelled."""
    def big(frame):
        return upscale(frame, scale) if scale else fit(frame, side)

    last = len(video) - 1
    return hstack([captioned(big(video[0]), "first frame (0)"), captioned(big(video[-1]), f"last frame ({last})")], gap)


def sheet(video: np.ndarray, title: str | None = None) -> np.ndarray:
    """First and last frame on top, a filmstrip of every other frame below, each labelled
    (and the ``title`` above all, when given)."""
    top = first_and_last(video)
    strip = filmstrip(video, every=2)
    rows = [top, label("every other frame:", strip.shape[1], px=20), strip]
    if title:
        rows.insert(0, label(title, max(top.shape[1], strip.shape[1]), px=24))
    page = vstack(rows, gap=8)
    return np.pad(page, ((10, 10), (10, 10), (0, 0)), constant_values=255)
