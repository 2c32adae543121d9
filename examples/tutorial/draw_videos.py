"""Draw the tutorial's task: a task image, a video that solves it, and one that breaks it.

Run from the repository root:  python examples/tutorial/draw_videos.py
It writes examples/tutorial/{first_frame.png, good.mp4, broken.mp4}.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from rulec.runtime.tasks import world
from rulec.runtime.video_io import write_video

HERE = Path(__file__).parent
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


if __name__ == "__main__":
    good = along([START, (7.0, 7.0), (26.0, 7.0), (26.0, 26.0)])  # pick-up, then around the zone to the drop
    broken = along([START, (16.0, 16.0), (26.0, 26.0)])  # skips the pick-up, cuts through the zone
    iio.imwrite(HERE / "first_frame.png", good[0])
    write_video(HERE / "good.mp4", good)
    write_video(HERE / "broken.mp4", broken)
    print("wrote", HERE / "first_frame.png", HERE / "good.mp4", HERE / "broken.mp4")
