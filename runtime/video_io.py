"""Reading and writing small videos without losing their exact colours.

The scorers and the rules detect objects by colour, so a video file must give back the
pixels that were written. H.264 in 4:2:0 (and even 4:4:4 YUV at qp 0) shifts palette
colours by one level and blurs chroma at object edges; ``libx264rgb`` at qp 0 encodes the
RGB planes themselves and round-trips exactly (checked in ``tests/test_video_io.py``).
An ``.mp4`` is therefore written with ``libx264rgb``; a folder of PNG frames is the
plain alternative, and :func:`read_video` prefers a ``<stem>_frames/`` folder next to a
file when one exists.

Videos are ``uint8`` arrays ``(T, H, W, 3)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".gif", ".webm", ".mkv", ".avi", ".mov")


class VideoReadError(Exception):
    """A video could not be read: says which path and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot read video: {reason}")


def frames_dir_for(path: str | os.PathLike) -> Path:
    """The PNG-frame folder that may sit beside a video file (``clip.mp4`` -> ``clip_frames/``)."""
    p = Path(path)
    return p.with_name(p.stem + "_frames")


def _as_rgb(frame: np.ndarray, where: str | Path) -> np.ndarray:
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise VideoReadError(where, f"expected an RGB image, got an array of shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise VideoReadError(where, f"expected 8-bit pixels, got {frame.dtype}")
    return np.ascontiguousarray(frame[:, :, :3])


def _stack(frames: list[np.ndarray], where: str | Path) -> np.ndarray:
    if not frames:
        raise VideoReadError(where, "it holds no frames")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise VideoReadError(where, f"frames differ in size: {sorted(shapes)}")
    return np.stack(frames)


def _read_png_folder(folder: Path) -> np.ndarray:
    import imageio.v3 as iio

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise VideoReadError(folder, "the folder holds no .png frames")
    frames = []
    for f in files:
        try:
            img = iio.imread(f)
        except Exception as exc:  # imageio raises many kinds for bad files
            raise VideoReadError(f, f"not a readable PNG ({type(exc).__name__}: {exc})") from None
        frames.append(_as_rgb(np.asarray(img), f))
    return _stack(frames, folder)


def _read_file(path: Path) -> np.ndarray:
    import av

    frames = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(path, "the file has no video stream")
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
    except VideoReadError:
        raise
    except Exception as exc:  # av.error.* for corrupt or unknown formats
        raise VideoReadError(path, f"not a decodable video ({type(exc).__name__}: {exc})") from None
    return _stack(frames, path)


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Read an mp4/gif/webm file or a folder of PNG frames as ``(T, H, W, 3)`` uint8.

    Raises :class:`VideoReadError` for missing, corrupt, empty or inconsistent input.
    """
    p = Path(path)
    if p.is_dir():
        return _read_png_folder(p)
    if not p.exists():
        raise VideoReadError(p, "no such file or folder")
    beside = frames_dir_for(p)
    if beside.is_dir():
        return _read_png_folder(beside)
    if p.stat().st_size == 0:
        raise VideoReadError(p, "the file is empty")
    return _read_file(p)


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frames.dtype}")
    return np.ascontiguousarray(frames)


def write_png_folder(folder: str | os.PathLike, frames: np.ndarray) -> Path:
    """Write frames as ``frame_0000.png``, ``frame_0001.png``... in a (new or emptied) folder."""
    import imageio.v3 as iio

    frames = _check_frames(frames)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("frame_*.png"):
        old.unlink()
    for i, f in enumerate(frames):
        iio.imwrite(out / f"frame_{i:04d}.png", f)
    return out


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: int = 8) -> Path:
    """Write ``(T, H, W, 3)`` uint8 frames so that :func:`read_video` gives them back exactly.

    ``.mp4``: lossless RGB H.264 (``libx264rgb``, qp 0; deterministic bytes);
    ``.gif``: palette GIF via Pillow (exact for a few flat colours); no suffix: a folder of PNG frames.
    """
    frames = _check_frames(frames)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == "":
        return write_png_folder(p, frames)
    if suffix not in (".mp4", ".gif"):
        raise ValueError(f"{p}: can write .mp4, .gif or a PNG folder (no suffix), not {suffix!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        import imageio.v3 as iio

        iio.imwrite(p, frames, duration=int(1000 / fps), loop=0)
        return p
    import av

    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"{p}: mp4 needs even frame sizes, got {w}x{h} (write a PNG folder instead)")
    with av.open(str(p), "w") as container:
        stream = container.add_stream("libx264rgb", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "rgb24"
        stream.options = {"qp": "0", "preset": "medium", "threads": "1"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return p
