"""Video files give back exactly the palette colours written (the scorers depend on it)."""

from __future__ import annotations

import numpy as np
import pytest

from rulec.runtime.tasks import world
from rulec.runtime.video_io import VideoReadError, frames_dir_for, read_video, write_png_folder, write_video


@pytest.fixture
def palette_video() -> np.ndarray:
    colours = np.array([world.rgb(n) for n in world.PALETTE], dtype=np.uint8)
    return colours[np.random.default_rng(0).integers(0, len(colours), size=(16, 32, 32))]


@pytest.mark.parametrize("name", ["clip.mp4", "clip.gif", "clip"])
def test_round_trip_is_exact_for_palette_colours(tmp_path, palette_video, name):
    path = write_video(tmp_path / name, palette_video)
    assert np.array_equal(read_video(path), palette_video)


def test_mp4_bytes_are_deterministic(tmp_path, palette_video):
    a = write_video(tmp_path / "a.mp4", palette_video).read_bytes()
    b = write_video(tmp_path / "b.mp4", palette_video).read_bytes()
    assert a == b


def test_yuv_encoding_would_not_be_exact(tmp_path, palette_video):
    """Why libx264rgb: even 4:4:4 YUV at qp 0 shifts palette colours."""
    import av

    path = tmp_path / "yuv.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=8)
        s.width = s.height = 32
        s.pix_fmt, s.options = "yuv444p", {"qp": "0"}
        for f in palette_video:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    assert not np.array_equal(read_video(path), palette_video)


def test_frames_folder_beside_a_file_is_preferred(tmp_path, palette_video):
    """Only when asked (issue 24: a folder beside a video never silently wins)."""
    path = write_video(tmp_path / "clip.mp4", palette_video)
    write_png_folder(frames_dir_for(path), palette_video[::-1].copy())
    assert np.array_equal(read_video(path, beside="frames"), palette_video[::-1])
    assert np.array_equal(read_video(path, beside="file"), palette_video)
    with pytest.raises(VideoReadError, match="clip_frames/ beside it holds other frames"):
        read_video(path)


def test_missing_file(tmp_path):
    with pytest.raises(VideoReadError, match="no such file"):
        read_video(tmp_path / "nope.mp4")


def test_empty_file(tmp_path):
    (tmp_path / "e.mp4").write_bytes(b"")
    with pytest.raises(VideoReadError, match="empty"):
        read_video(tmp_path / "e.mp4")


def test_corrupt_file(tmp_path):
    (tmp_path / "c.mp4").write_bytes(b"this is not a video at all" * 10)
    with pytest.raises(VideoReadError, match="not a decodable video"):
        read_video(tmp_path / "c.mp4")


def test_empty_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    with pytest.raises(VideoReadError, match="no .png frames"):
        read_video(tmp_path / "frames")


def test_inconsistent_frame_sizes(tmp_path):
    import imageio.v3 as iio

    d = tmp_path / "frames"
    d.mkdir()
    iio.imwrite(d / "frame_0000.png", np.zeros((32, 32, 3), np.uint8))
    iio.imwrite(d / "frame_0001.png", np.zeros((16, 32, 3), np.uint8))
    with pytest.raises(VideoReadError, match="differ in size"):
        read_video(d)


def test_corrupt_png_in_folder(tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    (d / "frame_0000.png").write_bytes(b"garbage")
    with pytest.raises(VideoReadError, match="frame_0000.png"):
        read_video(d)


def test_write_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((4, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        write_video(tmp_path / "x.mp4", np.zeros((32, 32, 3), np.uint8))
