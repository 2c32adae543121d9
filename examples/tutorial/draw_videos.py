"""Draw the tutorial's task: a task image, a video that solves it, and one that breaks it.

Run from the repository root:  python examples/tutorial/draw_videos.py
It writes examples/tutorial/{first_frame.png, good.mp4, broken.mp4} and the tutorial's
labelled picture of the task image, docs/img/tutorial-first-frame.png (``--doc-image``
writes only that picture).
"""

from __future__ import annotations

import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.video_io import write_video

HERE = Path(__file__).parent
DOC_IMAGE = HERE.parents[1] / "docs" / "img" / "tutorial-first-frame.png"
PICKUP = (3, 3, 11, 11)  # x0, y0, x1, y1 (cyan pad, top left)
DROP = (22, 22, 30, 30)  # yellow pad, bottom right
DANGER = (13, 13, 19, 19)  # orange zone in the middle: the straight way crosses it
START = (6.0, 26.0)


def scene() -> np.ndarray:
    frame = world.blank()
    for box, colour in ((PICKUP, "cyan"), (DROP, "yellow"), (DANGER, "orange")):
        frame = world.paint(frame, world.rect_mask(32, *box), colour)
    return frame


def along(points: list[tuple[float, float]]) -> np.ndarray:
    """The purple disc at constant speed along a polyline, resting at its end for the last frames."""
    return np.stack([world.paint(scene(), world.disc_mask(32, *p), "purple") for p in world.along_polyline(points)])


def doc_image(frame: np.ndarray, scale: int = 10) -> np.ndarray:
    """The task image enlarged ``scale`` x (flat pixels), framed, with a key naming each thing."""
    from PIL import Image, ImageDraw, ImageFont

    from rulec.runtime.tasks.figures import framed, upscale

    big = framed(upscale(frame, scale), 3)
    things = [("purple disc: the thing that moves", "purple"), ("cyan pad: pick up here first", "cyan"),
              ("yellow pad: then drop here", "yellow"), ("orange zone: never enter", "orange")]
    font, small = ImageFont.load_default(size=20), ImageFont.load_default(size=16)
    key_w = 360
    page = Image.new("RGB", (big.shape[1] + key_w + 40, big.shape[0] + 50), "white")
    page.paste(Image.fromarray(big), (10, 40))
    draw = ImageDraw.Draw(page)
    draw.text((10, 8), f"Task image ({frame.shape[1]} x {frame.shape[0]} px, shown {scale}x)", fill="black", font=font)
    for k, (text, colour) in enumerate(things):
        y = 60 + 48 * k
        x = big.shape[1] + 30
        draw.rectangle((x, y, x + 28, y + 28), fill=world.rgb(colour), outline="black", width=2)
        draw.text((x + 40, y + 4), text, fill="black", font=font)
    draw.text((big.shape[1] + 30, 60 + 48 * len(things) + 10), "white: empty floor", fill="#444444", font=small)
    return np.asarray(page)


if __name__ == "__main__":
    if "--doc-image" in sys.argv[1:]:
        iio.imwrite(DOC_IMAGE, doc_image(iio.imread(HERE / "first_frame.png")[..., :3]))
        print("wrote", DOC_IMAGE)
        raise SystemExit(0)
    good = along([START, (7.0, 7.0), (26.0, 7.0), (26.0, 26.0)])  # pick-up, then around the zone to the drop
    broken = along([START, (16.0, 16.0), (26.0, 26.0)])  # skips the pick-up, cuts through the zone
    iio.imwrite(HERE / "first_frame.png", good[0])
    iio.imwrite(DOC_IMAGE, doc_image(good[0]))
    write_video(HERE / "good.mp4", good)
    write_video(HERE / "broken.mp4", broken)
    print("wrote", HERE / "first_frame.png", HERE / "good.mp4", HERE / "broken.mp4", DOC_IMAGE)
