"""One sample of a video model on a task image, without optimization: what ``rulec toy sample`` shows.

Any reasoner samples through its :class:`~rulec.runtime.optimize.reasoner.Reasoner`
interface; the pixel model alone also takes classifier-free guidance on the caption.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class ImageSizeError(ValueError):
    """The task image is not a size the model can take."""


def sample_image(reasoner, image: np.ndarray, caption: str = "", *, seed: int = 0, steps: int | None = None,
                 guidance: float = 1.0) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 frames sampled from the task image ``image`` ``(H, W, 3)`` uint8.

    ``steps`` None: the model's default; ``guidance`` != 1 needs the pixel model. Options the
    model cannot take are a ValueError that says which and why (:class:`ImageSizeError` for the image)."""
    import torch

    from rulec.frames import to_uint8
    from rulec.runtime.models.pixel.reasoner import ToyReasoner, sample_videos
    from rulec.runtime.optimize.reasoner import TaskInput

    if steps is not None and steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    if guidance <= 0:
        raise ValueError(f"--guidance must be positive, got {guidance}")
    pixel = isinstance(reasoner, ToyReasoner)
    if not pixel and guidance != 1.0:
        raise ValueError("--guidance is for the pixel model only")
    if pixel and image.shape[:2] != (reasoner.model.config.frame_size,) * 2:
        size = reasoner.model.config.frame_size
        raise ImageSizeError(f"the pixel model needs {size}x{size} images, got {image.shape[1]}x{image.shape[0]}")
    num_steps = reasoner.default_steps if steps is None else steps
    task = TaskInput.from_image(image, caption, reasoner.model.config.num_frames)
    with torch.no_grad():
        if pixel:
            video = sample_videos(reasoner.model, task.first_frame[None], [caption], seed=seed, num_steps=num_steps, guidance=guidance)
        else:
            video = reasoner.sample(task, seed=seed, num_steps=num_steps)
    return to_uint8(video[0])


def write_preview(out: Path, frames: np.ndarray) -> Path:
    """The video at ``out`` (.mp4 or .gif) and its frames as PNGs in ``<stem>_frames/``; returns that folder."""
    import imageio.v3 as iio

    from rulec.runtime.video_io import write_video

    write_video(out, frames, fps=8)
    frame_dir = out.with_name(out.stem + "_frames")
    frame_dir.mkdir(exist_ok=True)
    for t, frame in enumerate(frames):
        iio.imwrite(frame_dir / f"{t:03d}.png", frame)
    return frame_dir
