"""Reading and writing small videos without losing their exact colours.

The scorers and the rules detect objects by colour, so a video file must give back the
pixels that were written. H.264 in 4:2:0 (and even 4:4:4 YUV at qp 0) shifts palette
colours by one level and blurs chroma at object edges; ``libx264rgb`` at qp 0 encodes the
RGB planes themselves and round-trips exactly (checked in ``tests/test_video_io.py``).
An ``.mp4`` is therefore written with ``libx264rgb``; a folder of PNG frames is the
plain alternative. A ``<stem>_frames/`` folder next to a file never silently wins:
:func:`read_video` reads both and refuses them when they differ (``beside=`` chooses).

Videos are untrusted input: the frame count and frame size are checked against
:mod:`rulec.limits` (``RULEC_MAX_VIDEO_FRAMES``, ``RULEC_MAX_FRAME_PIXELS``,
``RULEC_MAX_VIDEO_PIXELS``) before everything is decoded.

Videos are ``uint8`` arrays ``(T, H, W, 3)``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from rulec.runtime.input_limits import input_limit

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


def _stack(frames: list[np.ndarray], where: str | Path) -> np.ndarray:
    if not frames:
        raise VideoReadError(where, "it holds no frames")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise VideoReadError(where, f"frames differ in size: {sorted(shapes)}")
    return np.stack(frames)


class _Budget:
    """Counts frames and pixels as they are read; refuses the video past a limit."""

    def __init__(self, where: str | Path):
        self.where, self.frames, self.pixels = where, 0, 0
        self.max_frames = input_limit("MAX_VIDEO_FRAMES")
        self.max_frame_pixels = input_limit("MAX_FRAME_PIXELS")
        self.max_pixels = input_limit("MAX_VIDEO_PIXELS")

    def frame_count(self, n: int) -> None:
        if n > self.max_frames:
            raise VideoReadError(self.where, f"{n} frames, more than the limit of {self.max_frames} (RULEC_MAX_VIDEO_FRAMES)")

    def frame(self, width: int, height: int, where: str | Path | None = None) -> None:
        if width * height > self.max_frame_pixels:
            raise VideoReadError(where or self.where, f"frames of {width}x{height} pixels, more than the limit of "
                                 f"{self.max_frame_pixels} pixels (RULEC_MAX_FRAME_PIXELS)")
        self.frames += 1
        self.pixels += width * height
        self.frame_count(self.frames)
        if self.pixels > self.max_pixels:
            raise VideoReadError(self.where, f"more than {self.max_pixels} pixels in all (RULEC_MAX_VIDEO_PIXELS)")


#: Image modes a PNG frame may have; each becomes 8-bit RGB (alpha dropped, palette and gray expanded).
IMAGE_MODES = ("RGB", "RGBA", "P", "L", "LA")


def read_image(path: str | os.PathLike, budget: _Budget | None = None) -> np.ndarray:
    """One 8-bit PNG as ``(H, W, 3)`` uint8; format, mode and size are checked before its pixels are decoded."""
    from PIL import Image

    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise VideoReadError(p, f"cannot read it ({err.strerror or type(err).__name__})") from None
    limit = input_limit("MAX_IMAGE_BYTES")
    if size > limit:
        raise VideoReadError(p, f"{size} bytes, more than the limit of {limit} (RULEC_MAX_IMAGE_BYTES)")
    try:
        with Image.open(p) as img:
            if img.format != "PNG":
                raise VideoReadError(p, f"expected a PNG image, got {img.format or 'an unknown format'}")
            w, h = img.size
            if w < 1 or h < 1:
                raise VideoReadError(p, f"an empty image ({w}x{h})")
            (budget or _Budget(p)).frame(w, h, p)
            if img.mode not in IMAGE_MODES:
                raise VideoReadError(p, f"expected an 8-bit RGB image (modes {', '.join(IMAGE_MODES)}), got mode {img.mode}")
            img.load()
            rgb = np.array(img.convert("RGB"), dtype=np.uint8)
    except VideoReadError:
        raise
    except Exception as exc:  # PIL raises many kinds (OSError, SyntaxError, ValueError, zlib.error...) for broken files
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]
        raise VideoReadError(p, f"not a readable PNG ({type(exc).__name__}: {text})") from None
    if rgb.shape != (h, w, 3):
        raise VideoReadError(p, f"decoded to shape {rgb.shape}, expected ({h}, {w}, 3)")
    return np.ascontiguousarray(rgb)


def _png_frames(folder: Path) -> Iterator[np.ndarray]:
    """The folder's PNG frames in name order, one at a time (the count is checked before any is decoded)."""
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    except OSError as err:
        raise VideoReadError(folder, f"cannot list it ({err.strerror or type(err).__name__})") from None
    if not files:
        raise VideoReadError(folder, "the folder holds no .png frames")
    budget = _Budget(folder)
    budget.frame_count(len(files))  # before any frame is decoded
    for f in files:
        yield read_image(f, budget)


def _read_png_folder(folder: Path) -> np.ndarray:
    return _stack(list(_png_frames(folder)), folder)


def _file_frames(path: Path) -> Iterator[np.ndarray]:
    """The file's frames as ``(H, W, 3)`` uint8, one at a time, each counted against the limits before conversion."""
    import av

    budget = _Budget(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(path, "the file has no video stream")
            stream = container.streams.video[0]
            budget.frame_count(int(stream.frames or 0))  # the header's count, when it has one
            w, h = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
            if w * h > budget.max_frame_pixels:
                budget.frame(w, h)
            for frame in container.decode(video=0):
                budget.frame(frame.width, frame.height)  # before converting it
                yield frame.to_ndarray(format="rgb24")
    except VideoReadError:
        raise
    except Exception as exc:  # av.error.* for corrupt or unknown formats
        raise VideoReadError(path, f"not a decodable video ({type(exc).__name__}: {exc})") from None


def _read_file(path: Path) -> np.ndarray:
    return _stack(list(_file_frames(path)), path)


#: What :func:`read_video` does when ``clip_frames/`` sits beside ``clip.mp4``.
BESIDE = ("check", "file", "frames")


def read_video(path: str | os.PathLike, beside: str = "check") -> np.ndarray:
    """Read an mp4/gif/webm file or a folder of PNG frames as ``(T, H, W, 3)`` uint8.

    A ``<stem>_frames/`` folder beside the file: ``beside="check"`` (default) reads both and
    refuses them when they differ; ``"file"`` ignores the folder; ``"frames"`` reads the folder.
    Raises :class:`VideoReadError` for missing, corrupt, empty, oversized or inconsistent input.
    """
    if beside not in BESIDE:
        raise ValueError(f"beside must be one of {', '.join(BESIDE)}, got {beside!r}")
    p = Path(path)
    if p.is_dir():
        return _read_png_folder(p)
    if not p.exists():
        raise VideoReadError(p, "no such file or folder")
    folder = frames_dir_for(p)
    if beside == "frames" and folder.is_dir():
        return _read_png_folder(folder)
    if not p.is_file():
        raise VideoReadError(p, "not a regular file")
    if p.stat().st_size == 0:
        raise VideoReadError(p, "the file is empty")
    video = _read_file(p)
    if beside == "check" and folder.exists():
        try:
            frames = _read_png_folder(folder) if folder.is_dir() else None
        except VideoReadError as err:
            frames, why = None, err.reason
        else:
            why = "it is not a folder" if frames is None else (
                f"{frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]} against {video.shape[0]} of {video.shape[2]}x{video.shape[1]}"
                if frames.shape != video.shape else "their pixels differ")
        if frames is None or frames.shape != video.shape or not np.array_equal(frames, video):
            raise VideoReadError(p, f"{folder.name}/ beside it holds other frames ({why}); pass the folder to read "
                                 f"the PNG frames, or move one of the two away")
    return video


def _chunk_size(chunk_frames: int | Callable[[int, int], int], size: tuple[int, int]) -> int:
    n = int(chunk_frames(*size) if callable(chunk_frames) else chunk_frames)
    if n < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {n!r}")
    return n


def iter_video(path: str | os.PathLike, chunk_frames: int | Callable[[int, int], int], beside: str = "check") -> Iterator[np.ndarray]:
    """:func:`read_video` in pieces: ``(n, H, W, 3)`` uint8 chunks of ``chunk_frames`` frames
    (the last may be shorter), so a scorer holds one chunk instead of the whole video.
    ``chunk_frames`` may be a function of the first frame's ``(height, width)``.

    Same inputs, limits and errors as :func:`read_video` (a size change is reported when the
    first differing frame arrives). A ``<stem>_frames/`` folder beside a file under
    ``beside="check"`` needs both videos whole to compare them: that rare case, and every
    input ``read_video`` refuses before decoding, go through :func:`read_video` itself.
    """
    if beside not in BESIDE:
        raise ValueError(f"beside must be one of {', '.join(BESIDE)}, got {beside!r}")
    p = Path(path)
    folder = frames_dir_for(p)
    if p.is_dir():
        frames, where = _png_frames(p), p
    elif beside == "frames" and p.exists() and folder.is_dir():
        frames, where = _png_frames(folder), folder
    elif p.is_file() and p.stat().st_size > 0 and not (beside == "check" and folder.exists()):
        frames, where = _file_frames(p), p
    else:
        video = read_video(p, beside)
        n = _chunk_size(chunk_frames, video.shape[1:3])
        for i in range(0, video.shape[0], n):
            yield video[i : i + n]
        return
    chunk: list[np.ndarray] = []
    shape = None
    for frame in frames:
        if shape is None:
            shape = frame.shape
            n = _chunk_size(chunk_frames, shape[:2])
        elif frame.shape != shape:
            raise VideoReadError(where, f"frames differ in size: {sorted({shape, frame.shape})}")
        chunk.append(frame)
        if len(chunk) == n:
            yield np.stack(chunk)
            chunk = []
    if chunk:
        yield np.stack(chunk)
    elif shape is None:
        raise VideoReadError(where, "it holds no frames")


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frames.dtype}")
    return np.ascontiguousarray(frames)


_FRAME_NAME = re.compile(r"frame_\d{4,}\.png")


def write_png_folder(folder: str | os.PathLike, frames: np.ndarray) -> Path:
    """Write frames as ``frame_0000.png``, ``frame_0001.png``... in a folder; earlier ``frame_NNNN.png``
    are removed (the folder is read as a video), any other file is left alone."""
    import imageio.v3 as iio

    frames = _check_frames(frames)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("frame_*.png"):  # stale frames of ours only (frame_NNNN.png); other files stay
        if _FRAME_NAME.fullmatch(old.name) and old.is_file() and not old.is_symlink():
            old.unlink()
    for i, f in enumerate(frames):
        iio.imwrite(out / f"frame_{i:04d}.png", f)
    return out


#: The mp4 encodings :func:`write_video` knows: ``"lossless"`` (``libx264rgb``, qp 0: exact) and
#: ``"h264"`` (``libx264``, yuv420p, the encoder's default CRF 23: what an ordinary mp4 export
#: gives, lossy in colour at every edge).
MP4_CODECS = ("lossless", "h264")


def _encode_mp4(target, frames: np.ndarray, fps: int, codec: str, crf: int | None = None) -> None:
    import av

    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"{target}: mp4 needs even frame sizes, got {w}x{h} (write a PNG folder instead)")
    with av.open(target if not isinstance(target, Path) else str(target), "w", format="mp4") as container:
        if codec == "lossless":
            stream = container.add_stream("libx264rgb", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "rgb24"
            stream.options = {"qp": "0", "preset": "medium", "threads": "1"}
        elif codec == "h264":
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"preset": "medium", "threads": "1", **({"crf": str(crf)} if crf is not None else {})}
        else:
            raise ValueError(f"unknown mp4 codec {codec!r}; known: {', '.join(MP4_CODECS)}")
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: int = 8, codec: str = "lossless") -> Path:
    """Write ``(T, H, W, 3)`` uint8 frames so that :func:`read_video` gives them back exactly.

    ``.mp4``: lossless RGB H.264 (``libx264rgb``, qp 0; deterministic bytes); with
    ``codec="h264"`` an ordinary lossy H.264 4:2:0 mp4 instead (``libx264``, yuv420p, default
    CRF; single-threaded, so deterministic too), which does *not* give the frames back exactly;
    ``.gif``: palette GIF via Pillow (exact for a few flat colours); no suffix: a folder of PNG frames.
    """
    frames = _check_frames(frames)
    p = Path(path)
    suffix = p.suffix.lower()
    if codec not in MP4_CODECS:
        raise ValueError(f"unknown mp4 codec {codec!r}; known: {', '.join(MP4_CODECS)}")
    if suffix == "":
        return write_png_folder(p, frames)
    if suffix not in (".mp4", ".gif"):
        raise ValueError(f"{p}: can write .mp4, .gif or a PNG folder (no suffix), not {suffix!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        import imageio.v3 as iio

        iio.imwrite(p, frames, duration=int(1000 / fps), loop=0)
        return p
    _encode_mp4(p, frames, fps, codec)
    return p


def h264_round_trip(frames: np.ndarray, fps: int = 16, crf: int | None = None) -> np.ndarray:
    """``frames`` after an ordinary H.264 4:2:0 mp4 encode and decode, in memory (default CRF
    unless ``crf`` is given): what a scorer or a rule reads from a benchmark's mp4."""
    import io

    import av

    frames = _check_frames(frames)
    buf = io.BytesIO()
    _encode_mp4(buf, frames, fps, "h264", crf)
    buf.seek(0)
    with av.open(buf) as container:
        return np.stack([fr.to_ndarray(format="rgb24") for fr in container.decode(video=0)])
