"""Video pixels between the two forms rulec uses: uint8 frames on disk, float tensors in models.

Files, the task suite and the scorers hold channel-last ``uint8`` frames ``(..., H, W, 3)``;
the reward and the video models read channel-first float tensors ``(..., 3, H, W)`` in
[0, 1]. Every conversion goes through these two functions, so there is one scale (255)
and one rounding rule (nearest, ties to even, as ``torch.round``), and
``to_uint8(to_float(frames))`` gives ``frames`` back exactly. Core: numpy and torch only.
"""

from __future__ import annotations

import numpy as np
import torch


def to_float(frames: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Channel-last uint8 ``(..., H, W, 3)`` -> channel-first float ``(..., 3, H, W)`` in [0, 1], contiguous."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames
    if tensor.dtype != torch.uint8 or tensor.ndim < 3 or tensor.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (..., H, W, 3), got {tensor.dtype} {tuple(tensor.shape)}")
    return tensor.movedim(-1, -3).contiguous().to(dtype) / 255.0


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """Channel-first float ``(..., 3, H, W)`` -> channel-last uint8 ``(..., H, W, 3)``: clamped to [0, 1], rounded once."""
    if not video.is_floating_point() or video.ndim < 3 or video.shape[-3] != 3:
        raise ValueError(f"expected float video (..., 3, H, W), got {video.dtype} {tuple(video.shape)}")
    scaled = (video.detach().float().clamp(0.0, 1.0) * 255.0).round()
    return np.ascontiguousarray(scaled.to(torch.uint8).movedim(-3, -1).cpu().numpy())
