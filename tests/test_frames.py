"""rulec.frames: the one uint8 <-> float conversion of video pixels (layout, scale, rounding)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from rulec.frames import to_float, to_uint8


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_byte_survives_the_round_trip(dtype):
    frames = np.arange(256 * 3, dtype=np.int64).reshape(1, 16, 16, 3) % 256
    frames = frames.astype(np.uint8)
    video = to_float(frames, dtype)
    assert video.dtype == dtype and video.shape == (1, 3, 16, 16) and video.is_contiguous()
    assert 0.0 <= float(video.min()) and float(video.max()) == 1.0
    back = to_uint8(video)
    assert back.dtype == np.uint8 and np.array_equal(back, frames)


def test_channels_move_and_leading_dimensions_stay():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(2, 3, 5, 7, 3), dtype=np.uint8)  # (B, T, H, W, 3)
    video = to_float(frames)
    assert video.shape == (2, 3, 3, 5, 7)
    assert float(video[1, 2, 0, 4, 6]) == pytest.approx(frames[1, 2, 4, 6, 0] / 255.0)
    assert to_float(torch.from_numpy(frames)).equal(video)  # a tensor converts like an array
    single = to_float(frames[0, 0])  # one image (H, W, 3) -> (3, H, W)
    assert single.shape == (3, 5, 7) and np.array_equal(to_uint8(single), frames[0, 0])


def test_to_uint8_clamps_and_rounds_to_nearest():
    levels = torch.tensor([-0.3, 0.0, 10.49 / 255, 10.51 / 255, 1.0, 1.7])
    video = levels.view(1, 6, 1).expand(3, 6, 1).contiguous()  # (3, H=6, W=1)
    assert to_uint8(video)[:, 0, 0].tolist() == [0, 0, 10, 11, 255, 255]


def test_a_video_with_gradients_converts_without_them():
    video = torch.rand(2, 3, 4, 4, requires_grad=True)
    assert to_uint8(video * 1.0).shape == (2, 4, 4, 3)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 3), np.uint8)])
def test_to_float_refuses_what_is_not_uint8_frames(bad):
    with pytest.raises(ValueError, match="expected uint8 frames"):
        to_float(bad)


@pytest.mark.parametrize("bad", [torch.zeros(4, 4, 3), torch.zeros(3, 4, 4, dtype=torch.uint8)])
def test_to_uint8_refuses_what_is_not_a_float_video(bad):
    with pytest.raises(ValueError, match="expected float video"):
        to_uint8(bad)


def test_the_module_needs_only_numpy_and_torch():
    source = Path(__file__).resolve().parents[1] / "rulec" / "frames.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "numpy", "torch"}
